import { createRequire } from 'node:module';

/**
 * Inflate and CRC-32 for the read path, through the native zlib binding node:zlib itself wraps when it has the
 * shape Node 20 gives it, else through node:zlib.
 *
 * Why: a status after a few events inflates some forty small loose objects (commits, notes trees, note blobs) and
 * sums its caches. node:zlib costs ≈ 1.7 ms to load (its classes are streams: it loads all of node:stream), and
 * each `inflateSync` builds a Transform stream and a native handle, inits it and closes it: ≈ 50 µs a call, more
 * than the inflate. Here one handle is made once and reset between objects: the same zlib, ≈ 3 ms less a run.
 *
 * Only on Node 20 (the line this package supports and tests, STACK.md): the binding is internal, and its `init`
 * checks its arity natively (a wrong one aborts the process, past any catch). Elsewhere, or with
 * `--pending-deprecation` (under which `process.binding` warns), or when anything about the binding is not as
 * expected, node:zlib serves, loaded when first used. Errors read the same either way: an Error thrown, its
 * message zlib's.
 */
const INFLATE = 2; // zlib's mode constants as node:zlib numbers them (constants.INFLATE)
const Z_SYNC_FLUSH = 2;
const Z_FINISH = 4;

interface NativeZlib {
  init(windowBits: number, level: number, memLevel: number, strategy: number, writeState: Uint32Array, processCallback: () => void, dictionary: undefined): void;
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}
interface NativeBinding {
  Zlib: new (mode: number) => NativeZlib;
  crc32: (data: Uint8Array, value: number) => number;
}

const require_ = createRequire(import.meta.url);
let publicModule: typeof import('node:zlib') | undefined;
const publicZlib = (): typeof import('node:zlib') => (publicModule ??= require_('node:zlib') as typeof import('node:zlib'));

/** The binding when it is usable here (see above), else null; looked up once. */
let bindingMemo: NativeBinding | null | undefined;
function nativeBinding(): NativeBinding | null {
  if (bindingMemo !== undefined) return bindingMemo;
  bindingMemo = null;
  if (process.env.OMNI_SHIP_PUBLIC_ZLIB || !process.versions.node.startsWith('20.')) return null;
  if (process.env.NODE_PENDING_DEPRECATION === '1' || process.execArgv.includes('--pending-deprecation') || /--pending-deprecation\b/.test(process.env.NODE_OPTIONS ?? '')) return null;
  try {
    const b = (process as unknown as { binding?: (name: string) => unknown }).binding?.('zlib') as Partial<NativeBinding> | undefined;
    const proto = (b?.Zlib as { prototype?: Record<string, unknown> } | undefined)?.prototype;
    if (typeof b?.crc32 !== 'function' || !proto || !['init', 'writeSync', 'reset'].every((m) => typeof proto[m] === 'function')) return null;
    bindingMemo = b as NativeBinding;
  } catch {
    /* node:zlib serves */
  }
  return bindingMemo;
}

/** The one inflate handle, made when first needed (null: node:zlib serves), and what its writes report. */
let handleMemo: NativeZlib | null | undefined;
const writeState = new Uint32Array(2); // [out bytes left, in bytes left] after a write
let failure: string | null = null;
function inflateHandle(): NativeZlib | null {
  if (handleMemo !== undefined) return handleMemo;
  handleMemo = null;
  const b = nativeBinding();
  if (!b) return null;
  try {
    const h = new b.Zlib(INFLATE);
    // set before any write: the binding calls it, synchronously, for an error of the write
    h.onerror = (message) => {
      failure = message;
    };
    h.init(15, -1, 8, 0, writeState, () => {}, undefined);
    handleMemo = failure === null ? h : null;
  } catch {
    /* node:zlib serves */
  }
  failure = null;
  return handleMemo;
}

/**
 * Runs the handle over `data` with `flush` into a buffer that grows as needed; at most `limit` bytes out when
 * `limit` is given (what is out by then is the answer). Throws zlib's error.
 */
function run(h: NativeZlib, data: Uint8Array, flush: number, limit: number | undefined): Buffer {
  h.reset();
  failure = null;
  let out = Buffer.allocUnsafe(limit ?? Math.max(256, data.length * 4));
  let outOff = 0;
  let inOff = 0;
  let inLeft = data.length;
  for (;;) {
    h.writeSync(flush, data, inOff, inLeft, out, outOff, out.length - outOff);
    if (failure !== null) {
      const e = new Error(failure);
      failure = null;
      throw e;
    }
    const outLeft = writeState[0]!;
    const inAfter = writeState[1]!;
    outOff = out.length - outLeft;
    inOff += inLeft - inAfter;
    inLeft = inAfter;
    // room left: the stream ended (or, not finishing, the input is used up)
    if (outLeft > 0 || limit !== undefined) return out.subarray(0, outOff);
    const bigger = Buffer.allocUnsafe(out.length * 2);
    out.copy(bigger, 0, 0, outOff);
    out = bigger;
  }
}

/** The whole of a zlib stream, inflated; throws when it is damaged or cut short. */
export function inflate(data: Uint8Array): Buffer {
  const h = inflateHandle();
  if (!h) return publicZlib().inflateSync(data);
  return run(h, data, Z_FINISH, undefined);
}

/** The first bytes (at most `limit`) that the start of a zlib stream inflates to: a stream cut short is no error. */
export function inflateStart(data: Uint8Array, limit: number): Buffer {
  const h = inflateHandle();
  if (!h) {
    const z = publicZlib();
    const out = z.inflateSync(data, { finishFlush: z.constants.Z_SYNC_FLUSH });
    return out.subarray(0, limit);
  }
  return run(h, data, Z_SYNC_FLUSH, limit);
}

/** zlib's CRC-32 of `data`. */
export function crc32(data: Uint8Array): number {
  const b = nativeBinding();
  return b ? b.crc32(data, 0) : publicZlib().crc32(data);
}

/** Whether the native binding serves (for tests and the README's account). */
export function nativeZlibInUse(): boolean {
  return inflateHandle() !== null;
}
