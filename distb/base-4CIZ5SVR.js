import {
  fetchBaseTip,
  findBaseTip
} from "./chunk-DX7NHQZR.js";
import "./chunk-UEJZBPSB.js";
import "./chunk-XXU5WV5T.js";
import "./chunk-7AMGEYTX.js";
import "./chunk-KCAZVUE7.js";
import "./chunk-T3IP3O65.js";
import "./chunk-LF3CXZX6.js";
export {
  fetchBaseTip,
  findBaseTip
};
