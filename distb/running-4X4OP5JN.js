import {
  runLockFile,
  runningVerifies
} from "./chunk-ZF2EADDJ.js";
import "./chunk-ROLFLMZX.js";
import "./chunk-LIUXXDUE.js";
export {
  runLockFile,
  runningVerifies
};
