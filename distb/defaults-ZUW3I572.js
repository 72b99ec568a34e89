import {
  dynamicDefault,
  dynamicDefaultsAsync,
  withDefaults
} from "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";
export {
  dynamicDefault,
  dynamicDefaultsAsync,
  withDefaults
};
