// Sources of uniform randomness. Samplers consume 32-bit words from a large buffered pool and turn them into
// unbiased integers by rejection; only CryptoRandom (node:crypto) is accepted by the privacy mechanisms.
import { randomFillSync } from 'node:crypto';
import { MechanismError } from './rational.js';

/** What the raw samplers need: unbiased uniform integers and bits. */
export interface RandomSource {
  /** 32 uniform bits as an unsigned integer in [0, 2^32). */
  uint32(): number;
  /** Uniform integer in [0, n) for an integer 1 ≤ n ≤ 2^53 (unbiased, by rejection). */
  uniformInt(n: number): number;
  /** Uniform bigint in [0, n) for any n ≥ 1 (unbiased, by rejection). */
  uniformBigInt(n: bigint): bigint;
  /** One uniform bit, 0 or 1. */
  bit(): number;
}

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;
const DEFAULT_POOL_WORDS = 16384; // 64 KiB per refill

/** A pool of 32-bit words refilled in bulk, plus the integer and bit derivations shared by both sources. */
abstract class BufferedRandom implements RandomSource {
  protected readonly pool: Uint32Array;
  private pos: number;
  private refills = 0;
  private bitWord = 0;
  private bitsLeft = 0;

  protected constructor(poolWords: number) {
    if (!Number.isInteger(poolWords) || poolWords < 16) throw new MechanismError('poolWords must be an integer ≥ 16');
    this.pool = new Uint32Array(poolWords);
    this.pos = poolWords; // empty: the first draw refills
  }

  /** Overwrite the whole pool with fresh random words. */
  protected abstract refill(): void;

  uint32(): number {
    if (this.pos === this.pool.length) {
      this.refill();
      this.refills++;
      this.pos = 0;
    }
    return this.pool[this.pos++]!;
  }

  /** 32-bit words consumed so far (for measuring samplers' appetite for randomness). */
  get wordsDrawn(): number {
    return this.refills * this.pool.length - (this.pool.length - this.pos);
  }

  uniformInt(n: number): number {
    if (n <= TWO_32) {
      if (!(n >= 1) || !Number.isInteger(n)) throw new MechanismError('uniformInt bound must be an integer ≥ 1');
      // Accept r below the largest multiple of n that fits in 32 bits: every residue equally likely.
      const limit = TWO_32 - (TWO_32 % n);
      for (;;) {
        const r = this.uint32();
        if (r < limit) return r % n;
      }
    }
    if (n > TWO_53 || !Number.isInteger(n)) throw new MechanismError('uniformInt bound must be an integer ≤ 2^53; use uniformBigInt');
    const limit = TWO_53 - (TWO_53 % n);
    for (;;) {
      const r = (this.uint32() >>> 11) * TWO_32 + this.uint32(); // 53 uniform bits, exact in a double
      if (r < limit) return r % n;
    }
  }

  uniformBigInt(n: bigint): bigint {
    if (n < 1n) throw new MechanismError('uniformBigInt bound must be ≥ 1');
    if (n <= BigInt(TWO_53)) return BigInt(this.uniformInt(Number(n)));
    const words = Math.ceil(n.toString(2).length / 32);
    const range = 1n << BigInt(32 * words);
    const limit = range - (range % n);
    for (;;) {
      let r = 0n;
      for (let i = 0; i < words; i++) r = (r << 32n) | BigInt(this.uint32());
      if (r < limit) return r % n;
    }
  }

  bit(): number {
    if (this.bitsLeft === 0) {
      this.bitWord = this.uint32();
      this.bitsLeft = 32;
    }
    this.bitsLeft--;
    const b = this.bitWord & 1;
    this.bitWord >>>= 1;
    return b;
  }
}

/** The CSPRNG source (node:crypto randomFillSync), buffered. The only source privacy mechanisms accept. */
export class CryptoRandom extends BufferedRandom {
  // An ES private field makes the type nominal: nothing else (SeededRandom included) is assignable to it.
  readonly #cryptographic = true;

  constructor(options: { poolWords?: number } = {}) {
    super(options.poolWords ?? DEFAULT_POOL_WORDS);
  }

  get cryptographic(): boolean {
    return this.#cryptographic;
  }

  protected refill(): void {
    randomFillSync(this.pool);
  }
}

/** Deterministic, seedable source (xoshiro128**) for tests and dummy data ONLY. Raw samplers accept it;
 * privacy mechanisms do not (their parameter type is CryptoRandom). */
export class SeededRandom extends BufferedRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number | bigint | string, options: { poolWords?: number } = {}) {
    super(options.poolWords ?? 1024);
    let h = seedHash(seed);
    const next = (): number => {
      // splitmix32 spreads the seed over the four state words
      h = (h + 0x9e3779b9) | 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  protected refill(): void {
    let { s0, s1, s2, s3 } = this;
    const pool = this.pool;
    for (let i = 0; i < pool.length; i++) {
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      pool[i] = r >>> 0;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

function seedHash(seed: number | bigint | string): number {
  const text =
    typeof seed === 'string' ? `s:${seed}` : typeof seed === 'number' && !Number.isSafeInteger(seed) ? `f:${seed}` : `n:${BigInt(seed)}`;
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
