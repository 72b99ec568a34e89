# --- omni-ship hook library (inlined by install-hooks) ---
# Paths found at install time: hooks must work from GUI clients and shells without nvm on PATH.
_os_node=@OMNI_SHIP_NODE@
_os_entry=@OMNI_SHIP_ENTRY@

# Finds this worktree's git dir (_os_gd) and the common dir (_os_cd) with shell builtins only: a process
# costs about 1 ms here and a bare commit about 5 ms. git runs hooks from the top of the work tree.
_os_locate() {
  if [ -n "${GIT_DIR:-}" ]; then
    _os_gd=$GIT_DIR
  elif [ -d .git ]; then
    _os_gd=.git
  elif [ -f .git ]; then
    # a linked worktree or a submodule: ".git" holds "gitdir: <path>"
    read -r _os_x _os_gd < .git || :
  else
    _os_gd=$(git rev-parse --git-dir 2>/dev/null) || return 1
  fi
  case $_os_gd in /*) ;; *) _os_gd=$PWD/$_os_gd ;; esac
  _os_cd=$_os_gd
  if [ -f "$_os_gd/commondir" ]; then
    read -r _os_x < "$_os_gd/commondir" || :
    case $_os_x in /*) _os_cd=$_os_x ;; *) _os_cd=$_os_gd/$_os_x ;; esac
  fi
  _os_head=
  read -r _os_head < "$_os_gd/HEAD" || :
  return 0
}

# Sets _os_ref (the branch HEAD is on, empty when detached) and _os_sha (the commit HEAD points at now). Hooks
# spool commit ids, never refs to resolve later: by then another commit may have moved the branch. Right after a
# commit or merge git has written the branch as a loose ref; a packed one (or none) costs one git process.
_os_head_commit() {
  _os_sha=
  _os_ref=
  case $_os_head in
    'ref: '*)
      _os_ref=${_os_head#ref: }
      [ -f "$_os_cd/$_os_ref" ] && { read -r _os_sha < "$_os_cd/$_os_ref" || :; }
      ;;
    *) _os_sha=$_os_head ;;
  esac
  case $_os_sha in
    '' | *[!0-9a-f]*) _os_sha=$(git rev-parse -q --verify HEAD 2>/dev/null) || _os_sha= ;;
  esac
}

# True while a rebase is in progress: per-commit hooks then do nothing, and post-rewrite reports the result once.
# A cherry-pick or revert is different: git runs no post-rewrite for it (and CHERRY_PICK_HEAD or the sequencer
# directory already exists when post-commit runs, even for one clean pick), so its commits are recorded one by one.
_os_rebasing() {
  [ -d "$_os_gd/rebase-merge" ] || [ -d "$_os_gd/rebase-apply" ]
}

# Appends one event record to this process's spool file and starts the background drainer unless one is alive.
# A burst of commits (a rebase, a script) costs one Node start, not one per commit.
# Format 2: "2" and seven fields, each ended by a NUL (no path holds one, so TABs and newlines come through), then
# a newline: hook, work tree, git dir, commit, ref, extra, time (empty: the file's mtime).
_os_spool() {
  _os_dir=$_os_cd/omni-ship
  [ -d "$_os_dir/spool" ] || mkdir -p "$_os_dir/spool" 2>/dev/null || return 0
  printf '2\000%s\000%s\000%s\000%s\000%s\000%s\000\000\n' "$1" "$PWD" "$_os_gd" "$2" "$3" "${4:-}" >> "$_os_dir/spool/$$" 2>/dev/null || return 0
  # a drainer that runs, or one a hook just started (drain.pid is written once Node is up, ~60 ms later)
  if _os_alive "$_os_dir/drain.pid" || _os_alive "$_os_dir/drain.starting"; then
    return 0
  fi
  if [ ! -x "$_os_node" ] || [ ! -f "$_os_entry" ]; then
    printf 'omni-ship: %s is gone; run `npx omni-ship install-hooks` again (OMNI_SHIP_SKIP=1 silences this)\n' "$_os_entry" >&2
    return 0
  fi
  # claim the start with an exclusive create (set -C is O_EXCL; a builtin, no process): of a burst of commits
  # that all saw no drainer, one starts it. A dead starter's marker is cleared first.
  [ -f "$_os_dir/drain.starting" ] && rm -f "$_os_dir/drain.starting"
  set -C
  if { printf '' > "$_os_dir/drain.starting"; } 2>/dev/null; then
    set +C
    # detached: stdio goes to the log, never to git's pipes, so `git commit | cat` returns at once; in a session
    # of its own where setsid exists, so a Ctrl-C or a SIGTERM to the commit's process group (CI runners, agent
    # harnesses) does not stop it mid-drain (one that dies anyway loses nothing: the next drain finishes its work);
    # started in the common dir, as the work tree may be a linked worktree removed before the drainer is done
    (
      cd "$_os_cd" || exit 0
      command -v setsid > /dev/null 2>&1 && exec setsid "$_os_node" "$_os_entry" hook drain --common-dir "$_os_cd"
      exec "$_os_node" "$_os_entry" hook drain --common-dir "$_os_cd"
    ) < /dev/null >> "$_os_dir/hooks.log" 2>&1 &
    _os_pid=$!
    _os_start "$_os_pid"
    printf '%s %s\n' "$_os_pid" "$_os_st" > "$_os_dir/drain.starting"
  fi
  set +C
}

# Reads /proc/<pid>/stat (builtins only) into _os_pstate (the process state) and _os_st (its start time, which
# with the pid names one process for good); both empty where there is no /proc.
_os_start() {
  _os_pstate=
  _os_st=
  [ -r "/proc/$1/stat" ] || return 0
  read -r _os_x < "/proc/$1/stat" 2>/dev/null || return 0
  # the command name may hold spaces and parentheses: the fields start after the last ") "
  _os_x=${_os_x##*) }
  set -f
  # shellcheck disable=SC2086
  set -- $_os_x
  set +f
  _os_pstate=$1
  [ $# -ge 20 ] && shift 19 && _os_st=$1
  return 0
}

# True when the pid file $1 ("<pid> <start time>") names a running process: the same one that wrote it (a pid
# reused by another process has another start time), not a zombie (where nothing reaps orphans, some container
# inits, an exited drainer stays one forever). A file of an earlier version has no start time: its process must
# then be Node.
_os_alive() {
  _os_pid=
  _os_want=
  [ -f "$1" ] && { read -r _os_pid _os_want < "$1" || :; }
  [ -n "$_os_pid" ] && kill -0 "$_os_pid" 2>/dev/null || return 1
  [ -r "/proc/$_os_pid/stat" ] || return 0
  _os_start "$_os_pid"
  case $_os_pstate in Z | X | '') return 1 ;; esac
  if [ -n "$_os_want" ]; then
    [ "$_os_st" = "$_os_want" ]
    return
  fi
  read -r _os_x < "/proc/$_os_pid/stat" 2>/dev/null || return 1
  case $_os_x in *' (node'*) return 0 ;; esac
  return 1
}
# Runs the chained hook (the one that was in place before omni-ship, kept next to it as <hook>.omni-ship-chained)
# as git would have run it: the same arguments and stdin and, for a sh or bash script, the same $0 (the path git ran
# this hook by): helpers are found with `dirname "$0"`, and husky 4 finds its hook name with `basename "$0"`. Any
# other program runs by its own path. One that is there but not executable (or a symlink to nothing) is skipped
# with a warning, as git skips such a hook with a hint. Execs, or returns with _os_chained emptied.
_os_run_chained() {
  [ -n "$_os_chained" ] || return 0
  if [ ! -f "$_os_chained" ] || [ ! -x "$_os_chained" ]; then
    if [ -e "$_os_chained" ] || [ -h "$_os_chained" ]; then
      printf 'omni-ship: %s did not run: it is not an executable file (git skips such a hook too); chmod +x it to run it after omni-ship\n' "$_os_chained" >&2
    fi
    _os_chained=
    return 0
  fi
  _os_sb=
  { IFS= read -r _os_sb || :; } 2>/dev/null < "$_os_chained"
  case $_os_sb in '#!'*) _os_sb=${_os_sb#??} ;; *) _os_sb= ;; esac
  _os_sb=${_os_sb# }
  case $_os_sb in '/usr/bin/env '*) _os_sb=${_os_sb#/usr/bin/env } ;; esac
  _os_sh=${_os_sb%% *}
  _os_fl=${_os_sb#"$_os_sh"}
  case $_os_sh in sh | bash | */sh | */bash) ;; *) _os_sh= ;; esac
  case $_os_fl in '' | ' -'[a-zA-Z]*) ;; *) _os_sh= ;; esac
  case $_os_fl in *[!\ a-zA-Z-]*) _os_sh= ;; esac
  # the flags of a "#!/bin/sh -e" line are words on purpose
  # shellcheck disable=SC2086
  [ -n "$_os_sh" ] && exec "$_os_sh" $_os_fl -c '_os_f=$1; shift; . "$_os_f"' "$0" "$_os_chained" "$@"
  exec "$_os_chained" "$@"
}
# --- end of omni-ship hook library ---
