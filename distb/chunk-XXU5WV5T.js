// dist/notes/refs.js
var NOTES_REFS = {
  patchsets: "refs/notes/omni-ship/patchsets",
  verify: "refs/notes/omni-ship/verify",
  lands: "refs/notes/omni-ship/lands",
  attempts: "refs/notes/omni-ship/attempts",
  reviews: "refs/notes/omni-ship/reviews"
};
var NOTES_PREFIX = "refs/notes/omni-ship/";
var PATCHSET_REF_PREFIX = "refs/omni-ship/patchsets/";
var TMP_REF_PREFIX = "refs/omni-ship/tmp/";
function remoteNotesPrefix(remote) {
  return `refs/omni-ship/remote-notes/${remote}/`;
}
function remotePatchsetPrefix(remote) {
  return `refs/omni-ship/remote-patchsets/${remote}/`;
}
function patchsetRef(task, n) {
  return `${PATCHSET_REF_PREFIX}${task}/${n}`;
}
function baseRefCandidates(config) {
  return [`refs/heads/${config.baseBranch}`, ...config.remote ? [`refs/remotes/${config.remote}/${config.baseBranch}`] : []];
}

export {
  NOTES_REFS,
  NOTES_PREFIX,
  PATCHSET_REF_PREFIX,
  TMP_REF_PREFIX,
  remoteNotesPrefix,
  remotePatchsetPrefix,
  patchsetRef,
  baseRefCandidates
};
