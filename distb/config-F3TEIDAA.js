import {
  forbidUntrustedConfigCode,
  loadConfig,
  loadConfigOrPrevious
} from "./chunk-3764SIXL.js";
import {
  CONFIG_FILES,
  checkConfigFilesReadable,
  configFileIn,
  configFilesIn,
  executesCode,
  ignoredConfigFiles
} from "./chunk-SA47PFBH.js";
import {
  dynamicDefault,
  withDefaults
} from "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import {
  CONFIG_KEYS,
  GATING_KEYS,
  checkPattern,
  isValidBranchName,
  validateConfig
} from "./chunk-NKDYQLBC.js";
import {
  UntrustedConfigError
} from "./chunk-LF3CXZX6.js";
export {
  CONFIG_FILES,
  CONFIG_KEYS,
  GATING_KEYS,
  UntrustedConfigError,
  checkConfigFilesReadable,
  checkPattern,
  configFileIn,
  configFilesIn,
  dynamicDefault,
  executesCode,
  forbidUntrustedConfigCode,
  ignoredConfigFiles,
  isValidBranchName,
  loadConfig,
  loadConfigOrPrevious,
  validateConfig,
  withDefaults
};
