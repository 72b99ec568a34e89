import {
  prepareVerify,
  verifyCommand,
  verifyJson
} from "./chunk-2UYFNPRI.js";
import "./chunk-NMLSM6RE.js";
import "./chunk-J6TYBACV.js";
import "./chunk-X3DBBVZN.js";
import "./chunk-IIXU77GC.js";
import "./chunk-XXU5WV5T.js";
import "./chunk-JHUBOML5.js";
import "./chunk-S5HPCCKI.js";
import "./chunk-XETBP7KF.js";
import "./chunk-KCAZVUE7.js";
import "./chunk-3764SIXL.js";
import "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";
export {
  prepareVerify,
  verifyCommand,
  verifyJson
};
