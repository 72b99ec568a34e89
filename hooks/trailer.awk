# omni-ship commit-msg: decides whether and where the task trailer goes.
# stdin: the message as `git interpret-trailers` printed it with a sentinel trailer added, so git alone decides
# where the trailer block is (comments, the scissors line, `---`, the user's trailer.* config). The output is
# built from the ORIGINAL lines plus one new line: git re-formats trailers it parses, and the user's words must
# come out byte for byte.
# After an editor, git decides on the message it will store: comment lines stripped, cut at the scissors line. A
# comment line inside a paragraph can change git's verdict (it ends a trailer's continuation lines), so the hook
# first runs this program with OS_STRIP=1, which prints that message for interpret-trailers, and then reads git's
# output against the same stripped lines. Without an editor nothing is stripped (git keeps "#" lines then).
# Exit codes: 0 done (changed or not), 1 reject the commit (message printed), 5 the message lacks a final
# newline (the caller adds one and runs again), 6 could not understand git's output (message left alone).
BEGIN {
  msg = ENVIRON["OS_MSG"]
  sentinel = ENVIRON["OS_SENTINEL"]
  key = ENVIRON["OS_KEY"]
  editor = (ENVIRON["GIT_EDITOR"] != ":")
  cc = ENVIRON["OS_CC"]
  if (cc == "") cc = "#"
  # read the original message whole: with RS set to a byte messages do not hold, one record is the file
  RS = "\034"
  content = ""
  nrec = 0
  while ((r = (getline chunk < msg)) > 0) {
    content = content (nrec++ ? "\034" : "") chunk
  }
  close(msg)
  RS = "\n"
  failed = (r < 0)
  n = split(content, L, "\n")
  finalnl = (n > 0 && L[n] == "")
  N = finalnl ? n - 1 : n
  if (content == "") N = 0
  # S: the lines git decides on, S[j] being the original line L[X[j]]
  NS = 0
  lead = 1
  for (i = 1; i <= N; i++) {
    if (editor && comment(L[i]) && substr(L[i], 2) == " ------------------------ >8 ------------------------") break
    if (comment(L[i]) || (lead && editor && blank(L[i]))) continue
    lead = 0
    S[++NS] = L[i]
    X[NS] = i
  }
  if (ENVIRON["OS_STRIP"] == "1") {
    if (!failed) for (i = 1; i <= NS; i++) print S[i]
    stripping = 1
    exit 0
  }
}
{ O[++no] = $0 }
function blank(s) { return s ~ /^[ \t\r]*$/ }
# writes the branch-to-task answer for the hook's fast path, only when it changed; the hook renames the file
# into place. Values holding a single quote are not cached (they could not be sourced safely).
function remember(id,   tmp, b, q) {
  tmp = ENVIRON["OS_BCACHE_TMP"]
  b = ENVIRON["OS_BRANCH"]
  if (tmp == "" || b == "" || ENVIRON["OMNI_SHIP_TASK"] != "") return
  if (b == ENVIRON["OS_CACHED_BRANCH"] && id == ENVIRON["OS_CACHED_TASK"] && ENVIRON["OS_BRANCH_RE"] == ENVIRON["OS_CACHED_BRE"] && ENVIRON["OS_TASK_RE"] == ENVIRON["OS_CACHED_TRE"]) return
  q = sprintf("%c", 39)
  if (index(b id ENVIRON["OS_BRANCH_RE"] ENVIRON["OS_TASK_RE"], q)) return
  # _os_cb last: a reader that sees it sees the whole file
  printf "_os_ct=%s%s%s\n_os_cbre=%s%s%s\n_os_ctre=%s%s%s\n_os_cb=%s%s%s\n", q, id, q, q, ENVIRON["OS_BRANCH_RE"], q, q, ENVIRON["OS_TASK_RE"], q, q, b, q > tmp
  close(tmp)
}
function comment(s,   c) {
  # comments only count when an editor was used (git then strips them); with -m/-F git keeps "#123 fix"
  if (!editor) return 0
  c = substr(s, 1, 1)
  if (cc == "auto") return index("#;@!$%^&|:", c) > 0
  return c == cc
}
END {
  if (stripping) exit 0
  if (failed) exit 6
  if (N == 0) exit 0

  # the task: an existing trailer wins (checked below), then OMNI_SHIP_TASK, then the branch name
  id = ""
  # an invalid OMNI_SHIP_TASK rejects the commit, but only once it is known that the message names no task itself
  badenv = ""
  env = ENVIRON["OMNI_SHIP_TASK"]
  if (env != "") {
    id = tolower(env)
    if (id !~ ENVIRON["OS_TASK_RE"]) {
      badenv = env
      id = ""
    }
  } else if (ENVIRON["OS_BRANCH"] != "" && (match(ENVIRON["OS_BRANCH"], ENVIRON["OS_BRANCH_RE"]) || match(tolower(ENVIRON["OS_BRANCH"]), ENVIRON["OS_BRANCH_RE"]))) {
    # ids are lower-cased, so a branch named T-7 names t-7 under a pattern written in lower case (src/ids.ts alike)
    id = substr(ENVIRON["OS_BRANCH"], RSTART, RLENGTH)
    sub(/^[-_\/]+/, "", id)
    sub(/[-_\/]+$/, "", id)
    id = tolower(id)
    if (id !~ ENVIRON["OS_TASK_RE"]) id = ""
  }
  remember(id)
  require = (ENVIRON["OS_REQUIRE"] == "1")
  if (id == "" && !require && badenv == "") exit 0
  # git < 2.46.2 glues a new trailer to a last line that has no newline
  if (!finalnl) exit 5

  s = 0
  for (i = 1; i <= no; i++) if (O[i] == sentinel) { s = i; break }
  if (!s) exit 6
  # everything git printed after the sentinel is the message's ignored tail (comments, scissors, blank lines),
  # verbatim; so the lines git read split after line `cut`
  cut = NS - (no - s)
  if (cut < 0) exit 6

  empty = 1
  for (i = 1; i <= cut; i++) if (!blank(S[i]) && !comment(S[i])) { empty = 0; break }
  # an empty or comment-only message: leave it, so git aborts the commit as usual
  if (empty) exit 0

  # Above the sentinel, git prints the lines before the trailer block as they are, then either the sentinel's new
  # block (after a blank line it adds unless the message already ends with one) or the block it found, re-formatted
  # and without its comment lines, so shorter than the original. So the line right above the sentinel tells which,
  # and line counts only line up outside the block.
  if (s < 2) exit 6
  newblock = blank(O[s - 1])
  # git added a blank line: everything above it is the original, unchanged
  addblank = (s == cut + 2)
  if (addblank && !newblock) exit 6
  if (newblock) {
    same = addblank ? cut : s - 1
  } else {
    # the block git found ends above the sentinel; a Task-Id in it (any case, any spacing: git re-formatted it) is
    # the commit's task already
    for (i = s - 1; i >= 1 && !blank(O[i]); i--) {
      if (tolower(substr(O[i], 1, length(key) + 1)) == tolower(key) ":") exit 0
    }
    same = i
  }
  # the lines git printed as they were must be the ones it read, or the output was not understood
  if (same > cut) exit 6
  for (i = 1; i <= same; i++) if ((O[i] "") != (S[i] "")) exit 6
  if (badenv != "") {
    printf "omni-ship: OMNI_SHIP_TASK=%s is not a valid task id (a task id matches %s)\n", badenv, ENVIRON["OS_TASK_RE"] > "/dev/stderr"
    exit 1
  }
  if (id == "") {
    printf "omni-ship: this commit names no task, and requireTaskId is set.\n" > "/dev/stderr"
    printf "  commit on a task branch:        git switch -c t-123\n" > "/dev/stderr"
    printf "  or name the task for a commit:  OMNI_SHIP_TASK=t-123 git commit ...\n" > "/dev/stderr"
    printf "  or end the message with:        %s: t-123\n", key > "/dev/stderr"
    printf "  (your message is saved in %s)\n", msg > "/dev/stderr"
    exit 1
  }
  # the new line goes right after the original of the last line git read before its tail
  at = X[cut]
  out = ""
  for (i = 1; i <= at; i++) out = out L[i] "\n"
  if (addblank) out = out "\n"
  out = out key ": " id "\n"
  for (i = at + 1; i <= N; i++) out = out L[i] "\n"
  printf "%s", out > msg
  close(msg)
  exit 0
}
