import {
  GIT_LOCATION_ENV_VARS,
  OWNER_ENV,
  killGroup,
  killMarked,
  ownerMark,
  runSteps,
  tailLines
} from "./chunk-G5MGBX4U.js";
import "./chunk-OVXBPWYW.js";
import "./chunk-LIUXXDUE.js";
import "./chunk-T3IP3O65.js";
export {
  GIT_LOCATION_ENV_VARS,
  OWNER_ENV,
  killGroup,
  killMarked,
  ownerMark,
  runSteps,
  tailLines
};
