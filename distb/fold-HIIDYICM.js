import {
  cachedResult,
  foldVerify,
  isConclusive,
  otherSpecResult
} from "./chunk-S5HPCCKI.js";
import "./chunk-XETBP7KF.js";
export {
  cachedResult,
  foldVerify,
  isConclusive,
  otherSpecResult
};
