import {
  cloneId,
  gitIdentity,
  gitIdentityAsync,
  hostId
} from "./chunk-6JBUE5OR.js";
import "./chunk-T3IP3O65.js";
export {
  cloneId,
  gitIdentity,
  gitIdentityAsync,
  hostId
};
