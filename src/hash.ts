import { createRequire } from 'node:module';
import { crc32 } from './zlib.js';

/**
 * Checksums and ids for the machine-local caches, without node:crypto: loading it costs ≈ 2.7 ms of a process's
 * start (its public exports' getters load WebCrypto and the streams), more than a `status` spends hashing; a
 * SHA-1 in JavaScript costs more still, interpreted, for the few KB a status hashes. zlib's CRC-32 is native, and
 * on hand (src/zlib.ts: loose objects are deflated). node:crypto is loaded when first used.
 *
 * A checksum is two CRC-32s: of the bytes, and of the bytes in reverse order (another linear map, so a change
 * that one misses the other catches, but for a change that reads the same both ways) and the length: 64 bits
 * against accidents (a cache key that changed, a file damaged), none against intent. What must hold against
 * intent (the build's fingerprint of its files' contents) uses node:crypto's SHA-1 (nativeSha1).
 */
export class Checksum {
  private readonly parts: Buffer[] = [];
  private size = 0;

  update(data: string | Uint8Array): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }

  /** 16 hex digits, and the length in hex after a dot. */
  digest(): string {
    const all = Buffer.concat(this.parts, this.size);
    const forward = crc32(all);
    const backward = crc32(all.reverse());
    return `${forward.toString(16).padStart(8, '0')}${backward.toString(16).padStart(8, '0')}.${this.size.toString(16)}`;
  }
}

/** A new checksum (see Checksum). */
export function checksum(): Checksum {
  return new Checksum();
}

/** 40 random hex digits: the id of one write of a cache file (unique, not secret). */
export function randomId(): string {
  let id = '';
  for (let i = 0; i < 5; i++) id += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return id;
}

const require_ = createRequire(import.meta.url);
let cryptoModule: typeof import('node:crypto') | undefined;

/** node:crypto, loaded when first asked for (see above): for what must hold against intent, and strong randomness. */
export function nodeCrypto(): typeof import('node:crypto') {
  return (cryptoModule ??= require_('node:crypto') as typeof import('node:crypto'));
}

/** node:crypto's SHA-1. */
export function nativeSha1(): import('node:crypto').Hash {
  return nodeCrypto().createHash('sha1');
}
