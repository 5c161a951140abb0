// One value mapping for both engines, so the same aggregate gives the same JS value through either:
// integers are numbers when safe and bigint otherwise; exact decimals follow the integer rule when integral
// and are parsed from their decimal text (correctly rounded) otherwise; dates and timestamps are ISO text.

/** An exact integer as a JS number when safe, else bigint. */
export function integerToJs(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** An exact decimal written as text (`-12.340`, `7`, `NaN`). */
export function decimalTextToJs(text: string): number | bigint {
  const integral = /^(-?\d+)(?:\.0*)?$/.exec(text);
  if (integral?.[1] !== undefined) return integerToJs(BigInt(integral[1]));
  return Number(text);
}

const MICROS_PER_DAY = 86_400_000_000n;

/** Microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS[.ffffff]` (trailing zeros of the fraction dropped). */
export function formatMicros(micros: bigint, utcSuffix: boolean): string {
  const millis = micros >= 0n ? micros / 1000n : -((-micros + 999n) / 1000n);
  const base = new Date(Number(millis)).toISOString().slice(0, 19);
  const fraction = Number(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const fractionText = fraction === 0 ? '' : `.${String(fraction).padStart(6, '0').replace(/0+$/, '')}`;
  return `${base}${fractionText}${utcSuffix ? 'Z' : ''}`;
}

/** Days since the epoch as `YYYY-MM-DD`. */
export function formatDays(days: number): string {
  return formatMicros(BigInt(days) * MICROS_PER_DAY, false).slice(0, 10);
}

/** PostgreSQL timestamp text (`2020-01-02 03:04:05.5`, with `+00` when TimeZone is UTC) in the shared form. */
export function pgTimestampText(text: string, withZone: boolean): string {
  const iso = text.replace(' ', 'T');
  return withZone ? `${iso.replace(/\+00(:00)?$/, '')}Z` : iso;
}
