# omni-ship commit-msg: decides whether and where the task trailer goes.
# stdin: the message as `git interpret-trailers` printed it with a sentinel trailer added, so git alone decides
# where the trailer block is (comments, the scissors line, `---`, the user's trailer.* config). The output is
# built from the ORIGINAL lines plus one new line: git re-formats trailers it parses, and the user's words must
# come out byte for byte.
# The lines git decides on are those it stores: cut at the scissors line when it cuts there (OS_CUT: -v,
# commit.verbose, --cleanup=scissors), without comment lines when it strips them (OS_MODE=all: --cleanup=strip, the
# default after an editor), without leading blank lines unless verbatim. A comment line inside a paragraph can
# change git's verdict (it ends a trailer's continuation lines), so when git strips or cuts, the hook first runs this
# program with OS_STRIP=1, which prints those lines for interpret-trailers, and then reads git's output against the
# same lines (OS_PIPED=1). Under whitespace, verbatim and scissors git keeps comment lines: they are the message.
# Exit codes: 0 done (changed or not), 1 reject the commit (message printed), 5 the message lacks a final
# newline (the caller runs again through OS_STRIP), 6 could not understand git's output (message left alone).
BEGIN {
  msg = ENVIRON["OS_MSG"]
  sentinel = ENVIRON["OS_SENTINEL"]
  key = ENVIRON["OS_KEY"]
  ed = (ENVIRON["OS_ED"] == "1")
  mode = ENVIRON["OS_MODE"]
  if (mode == "") mode = ed ? "all" : "space"
  cutting = (ENVIRON["OS_CUT"] == "1")
  piped = (ENVIRON["OS_PIPED"] == "1")
  SCISSORS = " ------------------------ >8 ------------------------"
  # the comment characters core.commentChar=auto picks from, in git's order (builtin/commit.c)
  CANDIDATES = "#;@!$%^&|:"
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
  cc = commentchar()
  # S: the lines git decides on, S[j] being the original line L[X[j]]; cutat: the scissors line git cuts at
  NS = 0
  cutat = 0
  lead = (mode != "none")
  for (i = 1; i <= N; i++) {
    if (cutting && scissors(L[i])) {
      cutat = i
      break
    }
    if (mode == "all" && substr(L[i], 1, 1) == cc) continue
    if (lead && blank(L[i])) continue
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
function scissors(s) { return substr(s, 1, 1) == cc && substr(s, 2, length(SCISSORS)) == SCISSORS }
# The comment character git strips and cuts with. core.commentChar=auto: git comments with the first of CANDIDATES
# that starts no line of the message it starts from (adjust_comment_line_char). Without an editor that message is
# this file; after one, the character is read off git's own lines below the message, which start with it (latest
# first): the scissors line, a line quoting the character (the instruction "with '#' will be ignored", in any
# language), a line of the character alone. None left (commit.status=false, or deleted): "#", git's choice for a
# message that starts empty, as a plain `git commit`'s does.
function commentchar(   raw, i, c) {
  raw = ENVIRON["OS_CCRAW"]
  if (tolower(raw) != "auto") return length(raw) == 1 ? raw : "#"
  if (!ed) return adjust()
  for (i = N; i >= 1; i--) {
    c = substr(L[i], 1, 1)
    if (c != "" && index(CANDIDATES, c) && substr(L[i], 2, length(SCISSORS)) == SCISSORS) return c
  }
  for (i = N; i >= 1; i--) {
    c = substr(L[i], 1, 1)
    if (c == "" || !index(CANDIDATES, c)) continue
    if (L[i] == c || quotes(L[i], c)) return c
  }
  return "#"
}
function adjust(   i, c) {
  if (!index(content, "#")) return "#"
  for (i = 1; i <= length(CANDIDATES); i++) {
    c = substr(CANDIDATES, i, 1)
    if (substr(content, 1, 1) != c && !index(content, "\n" c) && !index(content, "\r" c)) return c
  }
  return "#"
}
# true when line s (starting with c) holds c again between quote marks: ' " or any byte outside printable ASCII
function quotes(s, c,   i) {
  for (i = 3; i < length(s); i++) {
    if (substr(s, i, 1) == c && quote(substr(s, i - 1, 1)) && quote(substr(s, i + 1, 1))) return 1
  }
  return 0
}
function quote(x) { return x == sprintf("%c", 39) || x == "\"" || x !~ /^[ -~]$/ }
# git's strbuf_stripspace over A[1..k] (comment lines starting with c dropped when strip is 1): trailing white space
# cut, runs of blank lines made one, none first or last; each line ends with "\n"
function stripspace(A, k, strip, c,   i, l, out, empties) {
  out = ""
  empties = 0
  for (i = 1; i <= k; i++) {
    l = A[i]
    if (strip && substr(l, 1, 1) == c) continue
    sub(/[ \t\r]+$/, "", l)
    if (l == "") {
      empties++
      continue
    }
    if (empties && out != "") out = out "\n"
    empties = 0
    out = out l "\n"
  }
  return out
}
# git's rest_is_empty: nothing but white space and Signed-off-by lines
function restempty(s,   k, R, i) {
  k = split(s, R, "\n")
  for (i = 1; i <= k; i++) {
    if (length(R[i]) >= 15 && substr(R[i], 1, 15) == "Signed-off-by: ") continue
    if (R[i] ~ /[^ \t\r]/) return 0
  }
  return 1
}
# True when git will abort the commit: the message it stores is empty (message_is_empty), or, with a template, is
# the template's text and nothing more (template_untouched). Then the hook leaves it alone, so git still aborts.
function gitempty(   stored, t, T, tn, line, tmpl) {
  if (mode == "none") return cutat == 1
  stored = stripspace(S, NS, 0, cc)
  if (restempty(stored)) return 1
  t = ENVIRON["OS_TEMPLATE"]
  if (t == "") return 0
  tn = 0
  while ((getline line < t) > 0) T[++tn] = line
  close(t)
  if (tn == 0) return 0
  tmpl = stripspace(T, tn, mode == "all", cc)
  return substr(stored, 1, length(tmpl)) == tmpl && restempty(substr(stored, length(tmpl) + 1))
}
# the task of the commit an amend replaces: its one Task-Id value (values separated by \037), when valid
function amendtask(   k, V, i, v, one) {
  k = split(ENVIRON["OS_AMEND_TASK"], V, "\037")
  one = ""
  for (i = 1; i <= k; i++) {
    v = tolower(V[i])
    gsub(/^[ \t\n]+|[ \t\n]+$/, "", v)
    if (v == "") continue
    if (v !~ ENVIRON["OS_TASK_RE"] || (one != "" && one != v)) return ""
    one = v
  }
  return one
}
# writes the branch-to-task answer (and core.commentChar as git read it) for the hook's fast path, only when it
# changed or a git config file changed since; the hook renames the file into place. Values holding a single quote
# are not cached (they could not be sourced safely).
function remember(id,   tmp, b, q, cgc) {
  tmp = ENVIRON["OS_BCACHE_TMP"]
  b = ENVIRON["OS_BRANCH"]
  cgc = ENVIRON["OS_CCRAW"]
  if (tmp == "" || b == "" || ENVIRON["OMNI_SHIP_TASK"] != "") return
  if (ENVIRON["OS_CSTALE"] != "1" && b == ENVIRON["OS_CACHED_BRANCH"] && id == ENVIRON["OS_CACHED_TASK"] && ENVIRON["OS_BRANCH_RE"] == ENVIRON["OS_CACHED_BRE"] && ENVIRON["OS_TASK_RE"] == ENVIRON["OS_CACHED_TRE"] && cgc == ENVIRON["OS_CACHED_CGC"]) return
  q = sprintf("%c", 39)
  if (index(b id ENVIRON["OS_BRANCH_RE"] ENVIRON["OS_TASK_RE"] cgc, q)) return
  # _os_cb last: a reader that sees it sees the whole file
  printf "_os_ct=%s%s%s\n_os_cbre=%s%s%s\n_os_ctre=%s%s%s\n_os_cgc=%s%s%s\n_os_cb=%s%s%s\n", q, id, q, q, ENVIRON["OS_BRANCH_RE"], q, q, ENVIRON["OS_TASK_RE"], q, q, cgc, q, q, b, q > tmp
  close(tmp)
}
END {
  if (stripping) exit 0
  if (failed) exit 6
  if (N == 0) exit 0
  # an empty message or an untouched template: leave it, so git aborts the commit as usual
  if (gitempty()) exit 0

  # the task: an existing trailer wins (checked below), then OMNI_SHIP_TASK, then the branch name (during a rebase,
  # the branch being rebuilt), then, for an amend, the task of the commit it replaces
  bid = ""
  if (ENVIRON["OS_BRANCH"] != "" && (match(ENVIRON["OS_BRANCH"], ENVIRON["OS_BRANCH_RE"]) || match(tolower(ENVIRON["OS_BRANCH"]), ENVIRON["OS_BRANCH_RE"]))) {
    # ids are lower-cased, so a branch named T-7 names t-7 under a pattern written in lower case (src/ids.ts alike)
    bid = substr(ENVIRON["OS_BRANCH"], RSTART, RLENGTH)
    sub(/^[-_\/]+/, "", bid)
    sub(/[-_\/]+$/, "", bid)
    bid = tolower(bid)
    if (bid !~ ENVIRON["OS_TASK_RE"]) bid = ""
  }
  remember(bid)
  # an invalid OMNI_SHIP_TASK rejects the commit, but only once it is known that the message names no task itself
  badenv = ""
  env = ENVIRON["OMNI_SHIP_TASK"]
  if (env != "") {
    id = tolower(env)
    if (id !~ ENVIRON["OS_TASK_RE"]) {
      badenv = env
      id = ""
    }
  } else if (bid != "") {
    id = bid
  } else {
    id = amendtask()
  }
  require = (ENVIRON["OS_REQUIRE"] == "1")
  # git < 2.46.2 glues a new trailer to a last line that has no newline
  if (!finalnl && !piped) exit 5

  s = 0
  for (i = 1; i <= no; i++) if (O[i] == sentinel) { s = i; break }
  # output not understood: the message is left alone (said so only when a trailer was due)
  lost = (id == "" && !require && badenv == "") ? 0 : 6
  if (!s) exit lost
  # everything git printed after the sentinel is the message's ignored tail (comments, scissors, blank lines),
  # verbatim; so the lines git read split after line `cut`
  cut = NS - (no - s)
  if (cut < 0) exit lost

  if (cut == 0) {
    # git reads nothing but lines it skips (comments git keeps under whitespace, verbatim or scissors): the trailer
    # follows them all, as a paragraph of its own
    at = X[NS]
    addblank = !blank(S[NS])
  } else {
    # Above the sentinel, git prints the lines before the trailer block as they are, then either the sentinel's new
    # block (after a blank line it adds unless the message already ends with one) or the block it found,
    # re-formatted and without its comment lines, so shorter than the original. So the line right above the
    # sentinel tells which, and line counts only line up outside the block.
    if (s < 2) exit lost
    newblock = blank(O[s - 1])
    # git added a blank line: everything above it is the original, unchanged
    addblank = (s == cut + 2)
    if (addblank && !newblock) exit lost
    if (newblock) {
      same = addblank ? cut : s - 1
    } else {
      # the block git found ends above the sentinel; a Task-Id in it (any case, any spacing: git re-formatted it) is
      # the commit's task already, and must name one
      bad = ""
      has = 0
      for (i = s - 1; i >= 1 && !blank(O[i]); i--) {
        if (tolower(substr(O[i], 1, length(key) + 1)) != tolower(key) ":") continue
        has = 1
        v = substr(O[i], length(key) + 2)
        gsub(/^[ \t]+|[ \t\r]+$/, "", v)
        if (tolower(v) !~ ENVIRON["OS_TASK_RE"]) bad = v
      }
      if (bad != "") {
        printf "omni-ship: %s: %s is not a valid task id (a task id matches %s); the commit was not made\n", key, bad, ENVIRON["OS_TASK_RE"] > "/dev/stderr"
        printf "  correct that trailer line, or remove it to take the task from the branch, and commit again\n" > "/dev/stderr"
        printf "  (your message is saved in %s)\n", msg > "/dev/stderr"
        exit 1
      }
      if (has) exit 0
      same = i
    }
    # the lines git printed as they were must be the ones it read, or the output was not understood
    if (same > cut) exit lost
    for (i = 1; i <= same; i++) if ((O[i] "") != (S[i] "")) exit lost
    # the new line goes right after the original of the last line git read before its tail
    at = X[cut]
  }
  if (badenv != "") {
    printf "omni-ship: OMNI_SHIP_TASK=%s is not a valid task id (a task id matches %s)\n", badenv, ENVIRON["OS_TASK_RE"] > "/dev/stderr"
    exit 1
  }
  if (id == "") {
    if (!require) exit 0
    printf "omni-ship: this commit names no task, and requireTaskId is set.\n" > "/dev/stderr"
    printf "  commit on a task branch:        git switch -c t-123\n" > "/dev/stderr"
    printf "  or name the task for a commit:  OMNI_SHIP_TASK=t-123 git commit ...\n" > "/dev/stderr"
    printf "  or end the message with:        %s: t-123\n", key > "/dev/stderr"
    printf "  (your message is saved in %s)\n", msg > "/dev/stderr"
    exit 1
  }
  out = ""
  for (i = 1; i <= at; i++) out = out L[i] "\n"
  if (addblank) out = out "\n"
  out = out key ": " id "\n"
  for (i = at + 1; i <= N; i++) out = out L[i] "\n"
  printf "%s", out > msg
  close(msg)
  exit 0
}
