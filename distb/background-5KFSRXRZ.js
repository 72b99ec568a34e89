import {
  requestTaskVerify,
  spawnBackgroundVerify,
  supersededSignal,
  taskRequest,
  taskRequestFile,
  verifyNewPatchsets,
  wantedCommit
} from "./chunk-AB7GA2BM.js";
import "./chunk-LIUXXDUE.js";
import "./chunk-ZPUHQCBY.js";
export {
  requestTaskVerify,
  spawnBackgroundVerify,
  supersededSignal,
  taskRequest,
  taskRequestFile,
  verifyNewPatchsets,
  wantedCommit
};
