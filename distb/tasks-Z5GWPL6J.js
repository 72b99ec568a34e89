import {
  STATES,
  compareTaskIds,
  loadState,
  parentTask,
  readRefSnapshot
} from "./chunk-QC6GLNLN.js";
import "./chunk-BRY4P75L.js";
import "./chunk-IIXU77GC.js";
import "./chunk-XXU5WV5T.js";
import "./chunk-7AMGEYTX.js";
import "./chunk-JHUBOML5.js";
import "./chunk-S5HPCCKI.js";
import "./chunk-XETBP7KF.js";
import "./chunk-ZPUHQCBY.js";
import "./chunk-KCAZVUE7.js";
import "./chunk-T3IP3O65.js";
import "./chunk-LF3CXZX6.js";
export {
  STATES,
  compareTaskIds,
  loadState,
  parentTask,
  readRefSnapshot
};
