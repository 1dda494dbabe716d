/**
 * Exact money. Costs are kept as integer nanodollars (1e-9 USD) in a bigint,
 * never as binary floating point, so that a million six-decimal costs sum to
 * the exact decimal total. DynamoDB stores them as N, which holds 38 digits.
 */

const NANOS_PER_USD = 1_000_000_000n;

const PLAIN_DECIMAL = /^(\d{1,6})(?:\.(\d{1,9}))?$/;

/**
 * Converts a JSON number of US dollars to integer nanodollars.
 *
 * Works on the number's shortest decimal representation (what `String(n)`
 * prints, which is what the client wrote for any value with ≤ 15 significant
 * digits), so 0.1 becomes exactly 100000000 nanodollars. Digits beyond the
 * ninth decimal are rounded half-up: the API promises sums exact to 1e-9 USD.
 */
export function usdToNanos(usd: number): bigint {
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`cost must be a finite number ≥ 0, got ${usd}`);
  const text = String(usd);
  // Fast path for the usual cost, under $1 million with at most nine decimals:
  // both parts are integers below 2^53, so Number arithmetic is exact.
  const plain = PLAIN_DECIMAL.exec(text);
  if (plain) return BigInt(Number(plain[1]) * 1e9 + Number((plain[2] ?? '').padEnd(9, '0')));
  const [mantissa = '0', exponentText] = text.toLowerCase().split('e');
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  const [whole = '0', fraction = ''] = mantissa.split('.');
  // digits * 10^(exponent - fraction.length) dollars, scaled to nanodollars.
  const digits = BigInt(whole + fraction);
  const scale = exponent - fraction.length + 9;
  if (scale >= 0) return digits * 10n ** BigInt(scale);
  return divideRoundingHalfUp(digits, 10n ** BigInt(-scale));
}

/** `amount` / `divisor` (> 0) rounded half up: sums of nanodollars divided exactly, never through a double. */
export function divideRoundingHalfUp(amount: bigint, divisor: bigint): bigint {
  const quotient = amount / divisor;
  return 2n * (amount % divisor) >= divisor ? quotient + 1n : quotient;
}

/** Renders nanodollars as the exact decimal string of dollars, e.g. 1500000n → "0.0015". */
export function nanosToDecimalString(nanos: bigint): string {
  const negative = nanos < 0n;
  const magnitude = negative ? -nanos : nanos;
  const whole = magnitude / NANOS_PER_USD;
  const fraction = (magnitude % NANOS_PER_USD).toString().padStart(9, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/**
 * Nanodollars as a JSON number of dollars. Parsing the exact decimal string
 * gives the double nearest to the exact sum. A double keeps 15 significant
 * digits, so that prints back as the same decimal for any total below
 * $1 million (6 + 9 digits), and within one nanodollar up to about
 * $9 million; use `nanosToDecimalString` where more must be exact.
 */
export function nanosToUsd(nanos: bigint): number {
  return Number(nanosToDecimalString(nanos));
}
