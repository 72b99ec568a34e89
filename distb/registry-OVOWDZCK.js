import {
  REGISTRY_FILE,
  readRegistry,
  updateRegistry
} from "./chunk-BZBSG6NV.js";
import "./chunk-ROLFLMZX.js";
import "./chunk-LIUXXDUE.js";
export {
  REGISTRY_FILE,
  readRegistry,
  updateRegistry
};
