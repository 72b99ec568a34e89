import {
  LOCAL_CONFIG_FILES,
  committedConfig,
  committedConfigFrom,
  configRequests,
  describeSource,
  localVerifyConfig,
  recordedCacheKey,
  resolveSpec,
  runCacheKey,
  specHash
} from "./chunk-X3DBBVZN.js";
import "./chunk-JHUBOML5.js";
import "./chunk-SA47PFBH.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";
export {
  LOCAL_CONFIG_FILES,
  committedConfig,
  committedConfigFrom,
  configRequests,
  describeSource,
  localVerifyConfig,
  recordedCacheKey,
  resolveSpec,
  runCacheKey,
  specHash
};
