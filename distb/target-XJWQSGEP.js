import {
  commitAndTree,
  resolveTarget
} from "./chunk-NTEFXZ54.js";
import "./chunk-ZYVUK7VO.js";
import "./chunk-KCAZVUE7.js";
import "./chunk-T3IP3O65.js";
import "./chunk-LF3CXZX6.js";
export {
  commitAndTree,
  resolveTarget
};
