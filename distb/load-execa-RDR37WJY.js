import {
  loadExeca
} from "./chunk-OVXBPWYW.js";
export {
  loadExeca
};
