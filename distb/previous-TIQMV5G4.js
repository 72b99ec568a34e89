import {
  LAST_CONFIG_FILE,
  rememberConfig,
  rememberedConfig
} from "./chunk-FN4GH56K.js";
import "./chunk-USU43FMM.js";
import "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";
export {
  LAST_CONFIG_FILE,
  rememberConfig,
  rememberedConfig
};
