import {
  badLineWarnings,
  isTaskStatusJson,
  statusCommand,
  taskJson
} from "./chunk-C3RJA7YE.js";
import "./chunk-J6TYBACV.js";
import "./chunk-ZF2EADDJ.js";
import "./chunk-ROLFLMZX.js";
import "./chunk-LIUXXDUE.js";
import "./chunk-X3DBBVZN.js";
import "./chunk-QC6GLNLN.js";
import "./chunk-BRY4P75L.js";
import "./chunk-IIXU77GC.js";
import "./chunk-XXU5WV5T.js";
import "./chunk-7AMGEYTX.js";
import "./chunk-JHUBOML5.js";
import "./chunk-S5HPCCKI.js";
import "./chunk-XETBP7KF.js";
import "./chunk-ZPUHQCBY.js";
import "./chunk-KCAZVUE7.js";
import "./chunk-3764SIXL.js";
import "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";
export {
  badLineWarnings,
  isTaskStatusJson,
  statusCommand,
  taskJson
};
