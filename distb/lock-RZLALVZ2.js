import {
  ownerAlive,
  readLock,
  releaseLock,
  tryLock,
  updateLock,
  waitForLock
} from "./chunk-ROLFLMZX.js";
import "./chunk-LIUXXDUE.js";
export {
  ownerAlive,
  readLock,
  releaseLock,
  tryLock,
  updateLock,
  waitForLock
};
