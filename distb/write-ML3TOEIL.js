import {
  appendEvents,
  commitNotesCas,
  fastImportInput,
  notACommitError,
  pruneStaleTmpRefs
} from "./chunk-NVSIXMHN.js";
import "./chunk-IIXU77GC.js";
import "./chunk-XXU5WV5T.js";
import "./chunk-JHUBOML5.js";
import "./chunk-XETBP7KF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-LF3CXZX6.js";
export {
  appendEvents,
  commitNotesCas,
  fastImportInput,
  notACommitError,
  pruneStaleTmpRefs
};
