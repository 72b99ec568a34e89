import {
  exitCodeOf,
  fromCachedEvent,
  treeVerifyEvents,
  verifyCommit
} from "./chunk-NMLSM6RE.js";
import "./chunk-X3DBBVZN.js";
import "./chunk-IIXU77GC.js";
import "./chunk-XXU5WV5T.js";
import "./chunk-JHUBOML5.js";
import "./chunk-S5HPCCKI.js";
import "./chunk-XETBP7KF.js";
import "./chunk-SA47PFBH.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";
export {
  exitCodeOf,
  fromCachedEvent,
  treeVerifyEvents,
  verifyCommit
};
