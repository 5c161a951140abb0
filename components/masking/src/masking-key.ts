// The keyed-hash key. Veil's server secret is never used directly: a masking key is derived from it with
// HMAC (domain separation), and only that derived key reaches an engine — as bound parameters, never in SQL
// text. The object hides its bytes from logs, JSON and util.inspect.
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';

const MIN_SECRET_BYTES = 16;
const HMAC_BLOCK_BYTES = 64;

export class MaskingKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaskingKeyError';
  }
}

export class MaskingKey {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Derives the masking key from the server secret (string or bytes, at least 16 bytes). */
  static fromSecret(secret: string | Uint8Array): MaskingKey {
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (bytes.length < MIN_SECRET_BYTES) throw new MaskingKeyError(`the masking secret must be at least ${MIN_SECRET_BYTES} bytes long`);
    return new MaskingKey(createHmac('sha256', bytes).update('veil/masking/key/v1').digest());
  }

  /** HMAC-SHA256 of the UTF-8 text under this key. */
  hmac(text: string): Buffer {
    return createHmac('sha256', this.#key).update(text, 'utf8').digest();
  }

  /** The padded inner and outer keys of HMAC (RFC 2104) in hex, for engines that only have sha256(). */
  sqlPads(): { inner: string; outer: string } {
    const inner = Buffer.alloc(HMAC_BLOCK_BYTES, 0x36);
    const outer = Buffer.alloc(HMAC_BLOCK_BYTES, 0x5c);
    for (let i = 0; i < this.#key.length; i++) {
      inner[i] = inner[i]! ^ this.#key[i]!;
      outer[i] = outer[i]! ^ this.#key[i]!;
    }
    return { inner: inner.toString('hex'), outer: outer.toString('hex') };
  }

  toString(): string {
    return 'MaskingKey([redacted])';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
