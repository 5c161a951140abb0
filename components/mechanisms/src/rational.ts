// Exact non-negative-or-signed rationals over BigInt. Every privacy parameter (scale, ε, σ², γ) enters the
// samplers as a Rational, so no binary floating point ever sits between a parameter and the noise.
import { Decimal } from 'decimal.js';

/** Errors for bad parameters. Messages name the parameter, never a private value. */
export class MechanismError extends Error {
  override name = 'MechanismError';
}

/** Anything that denotes an exact rational: a JS number (taken exactly, as the binary fraction it is),
 * a bigint, a decimal string ("0.1", "1e-9"), a fraction string ("1/3"), a Decimal, or a Rational. */
export type RationalLike = Rational | Decimal | bigint | number | string;

/** High-precision decimal arithmetic for accounting and conversions (60 significant digits). */
export const HP = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -1000, toExpPos: 1000 });

const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
};

export class Rational {
  /** Numerator and denominator in lowest terms; den > 0. */
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint, den = 1n) {
    if (den === 0n) throw new MechanismError('rational with zero denominator');
    if (den < 0n) [num, den] = [-num, -den];
    const g = gcd(num, den);
    this.num = g > 1n ? num / g : num;
    this.den = g > 1n ? den / g : den;
  }

  static readonly ZERO = new Rational(0n);
  static readonly ONE = new Rational(1n);

  static from(x: RationalLike, what = 'value'): Rational {
    return toRational(x, what);
  }

  add(o: Rational): Rational { return new Rational(this.num * o.den + o.num * this.den, this.den * o.den); }
  sub(o: Rational): Rational { return new Rational(this.num * o.den - o.num * this.den, this.den * o.den); }
  mul(o: Rational): Rational { return new Rational(this.num * o.num, this.den * o.den); }
  div(o: Rational): Rational {
    if (o.num === 0n) throw new MechanismError('division by zero');
    return new Rational(this.num * o.den, this.den * o.num);
  }
  neg(): Rational { return new Rational(-this.num, this.den); }
  cmp(o: Rational): -1 | 0 | 1 {
    const d = this.num * o.den - o.num * this.den;
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  isZero(): boolean { return this.num === 0n; }
  isPositive(): boolean { return this.num > 0n; }
  isInteger(): boolean { return this.den === 1n; }
  /** ⌊this⌋ */
  floor(): bigint {
    const q = this.num / this.den;
    return this.num < 0n && q * this.den !== this.num ? q - 1n : q;
  }
  /** ⌈this⌉ */
  ceil(): bigint { return -new Rational(-this.num, this.den).floor(); }
  /** this · 2^k for any integer k (exact). */
  mulPow2(k: number): Rational {
    return k >= 0 ? new Rational(this.num << BigInt(k), this.den) : new Rational(this.num, this.den << BigInt(-k));
  }
  /** Nearest 60-significant-digit decimal (exact when the decimal expansion is that short). */
  toDecimal(): Decimal { return new HP(this.num.toString()).div(this.den.toString()); }
  /** Nearest double; for display and public (non-private) arithmetic only. */
  toNumber(): number { return this.toDecimal().toNumber(); }
  /** "p" or "p/q". */
  toString(): string { return this.den === 1n ? this.num.toString() : `${this.num}/${this.den}`; }
  /** Decimal string with at most `significantDigits` significant digits, rounded exactly in the given
   * direction ('up' = toward +∞, 'down' = toward −∞, 'nearest' = half to even). */
  toDecimalString(significantDigits = 15, rounding: 'up' | 'down' | 'nearest' = 'nearest'): string {
    return roundToDecimalString(this, significantDigits, rounding);
  }
}

function roundToDecimalString(r: Rational, digits: number, rounding: 'up' | 'down' | 'nearest'): string {
  if (!Number.isInteger(digits) || digits < 1) throw new MechanismError('significant digits must be a positive integer');
  if (r.num === 0n) return '0';
  const negative = r.num < 0n;
  const n = negative ? -r.num : r.num;
  // Choose a power of ten s so that q = ⌊n·10^s/den⌋ has exactly `digits` digits.
  let s = digits - (n.toString().length - r.den.toString().length) - 1;
  const scaled = (k: number): [bigint, bigint] => {
    const top = k >= 0 ? n * 10n ** BigInt(k) : n;
    const bottom = k >= 0 ? r.den : r.den * 10n ** BigInt(-k);
    return [top / bottom, top % bottom === 0n ? 0n : (2n * (top % bottom) > bottom ? 3n : 2n * (top % bottom) === bottom ? 2n : 1n)];
  };
  let [q, rest] = scaled(s); // rest: 0 exact, 1 below half, 2 exactly half, 3 above half
  const lowest = 10n ** BigInt(digits - 1);
  while (q >= lowest * 10n) [q, rest] = scaled(--s);
  while (q < lowest) [q, rest] = scaled(++s);
  const awayFromZero = rest !== 0n && (rounding === 'nearest'
    ? rest === 3n || (rest === 2n && (q & 1n) === 1n)
    : (rounding === 'up') !== negative);
  if (awayFromZero) q += 1n;
  let text = q.toString();
  if (s > 0) {
    text = text.padStart(s + 1, '0');
    text = `${text.slice(0, text.length - s)}.${text.slice(text.length - s)}`.replace(/\.?0+$/, '');
  } else if (s < 0) {
    text += '0'.repeat(-s);
  }
  return negative ? `-${text}` : text;
}

const DECIMAL_RE = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-]?)\.(\d+)(?:[eE]([+-]?\d+))?$/;

function fromDecimalString(s: string, what: string): Rational {
  const m = DECIMAL_RE.exec(s.trim());
  if (!m) throw new MechanismError(`${what} must be a finite number, decimal or fraction string, got ${JSON.stringify(s)}`);
  const sign = (m[1] ?? m[5]) === '-' ? -1n : 1n;
  const intPart = m[2] ?? '0';
  const frac = m[3] ?? m[6] ?? '';
  const exp = Number(m[4] ?? m[7] ?? '0');
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 100_000) throw new MechanismError(`${what} has an unreasonable exponent`);
  const digits = BigInt(intPart + frac) * sign;
  const scale = exp - frac.length;
  return scale >= 0 ? new Rational(digits * 10n ** BigInt(scale)) : new Rational(digits, 10n ** BigInt(-scale));
}

function fromNumber(x: number, what: string): Rational {
  if (!Number.isFinite(x)) throw new MechanismError(`${what} must be finite, got ${x}`);
  if (Number.isInteger(x)) return new Rational(BigInt(x));
  // A double is m · 2^e exactly; recover it without rounding.
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) { m *= 2; e++; }
  return new Rational(BigInt(m), 1n << BigInt(e));
}

/** Converts to an exact Rational; `what` names the parameter in error messages. */
export function toRational(x: RationalLike, what = 'value'): Rational {
  if (x instanceof Rational) return x;
  if (typeof x === 'bigint') return new Rational(x);
  if (typeof x === 'number') return fromNumber(x, what);
  if (Decimal.isDecimal(x)) {
    if (!x.isFinite()) throw new MechanismError(`${what} must be finite`);
    return fromDecimalString(x.toFixed(), what);
  }
  if (typeof x === 'string') {
    const slash = x.indexOf('/');
    if (slash >= 0) {
      const n = fromDecimalString(x.slice(0, slash), what);
      const d = fromDecimalString(x.slice(slash + 1), what);
      if (d.isZero()) throw new MechanismError(`${what} has a zero denominator`);
      return n.div(d);
    }
    return fromDecimalString(x, what);
  }
  throw new MechanismError(`${what} must be a number, bigint, decimal string or Rational`);
}

/** Parses and checks x > 0. */
export function positiveRational(x: RationalLike, what: string): Rational {
  const r = toRational(x, what);
  if (!r.isPositive()) throw new MechanismError(`${what} must be positive`);
  return r;
}

/** Parses and checks x ≥ 0. */
export function nonNegativeRational(x: RationalLike, what: string): Rational {
  const r = toRational(x, what);
  if (r.num < 0n) throw new MechanismError(`${what} must not be negative`);
  return r;
}
