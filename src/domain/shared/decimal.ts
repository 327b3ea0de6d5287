/**
 * Exact decimal arithmetic for money (§0.6): amounts are non-negative decimal strings, compared and
 * summed with big integers scaled to a common number of fractional digits. Floating point is never
 * used; a JSON number enters only through `numberToDecimalString`, which expands its shortest
 * round-trip representation (ECMAScript `Number#toString`).
 */

/** §0.6: no sign, no exponent, no thousands separators, no leading zeros. */
const DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** §0.6: the most fractional digits a decimal string in a request may carry. */
export const MAX_FRACTION_DIGITS = 36;

/** A valid §0.6 decimal string (pattern and at most 36 fractional digits), e.g. for request validation. */
export function isDecimalString(value: unknown): value is string {
  if (typeof value !== 'string' || !DECIMAL.test(value)) return false;
  const point = value.indexOf('.');
  return point === -1 || value.length - point - 1 <= MAX_FRACTION_DIGITS;
}

/**
 * §0.6: the plain decimal string of a finite, non-negative JSON number, from its shortest round-trip
 * representation with any exponent expanded (`1e-7` → `"0.0000001"`, `25.5` → `"25.5"`, `1e21` →
 * `"1000000000000000000000"`).
 */
export function numberToDecimalString(value: number): string {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`Not a finite non-negative amount: ${value}`);
  const text = String(value === 0 ? 0 : value); // -0 prints as "0" anyway; made explicit
  const e = text.indexOf('e');
  if (e === -1) return text;
  const mantissa = text.slice(0, e);
  const exponent = Number(text.slice(e + 1));
  const point = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const position = (point === -1 ? mantissa.length : point) + exponent;
  if (position <= 0) return `0.${'0'.repeat(-position)}${digits}`;
  if (position >= digits.length) return digits + '0'.repeat(position - digits.length);
  return `${digits.slice(0, position)}.${digits.slice(position)}`;
}

/**
 * An amount as a normalised decimal string: a number is expanded as above; a string must match the
 * §0.6 pattern (any number of fractional digits) and loses trailing fractional zeros (`"1.50"` →
 * `"1.5"`, `"2.000"` → `"2"`).
 */
export function toDecimal(amount: number | string): string {
  const text = textOf(amount);
  // Already normalised (the common case: cached prices, limits): no big-integer round trip.
  if (!text.includes('.') || !text.endsWith('0')) return text;
  return format(parse(text));
}

/**
 * -1, 0 or 1 as `a` is less than, equal to or greater than `b`. Compared as digit strings (the
 * pattern has no leading zeros): by integer length, then integer digits, then fraction digits padded
 * with zeros — exact, and without big integers on this hot path (search ranks thousands of prices).
 */
export function compareDecimals(a: number | string, b: number | string): -1 | 0 | 1 {
  const x = textOf(a);
  const y = textOf(b);
  const px = x.indexOf('.');
  const py = y.indexOf('.');
  const ix = px === -1 ? x : x.slice(0, px);
  const iy = py === -1 ? y : y.slice(0, py);
  if (ix.length !== iy.length) return ix.length < iy.length ? -1 : 1;
  if (ix !== iy) return ix < iy ? -1 : 1;
  const fx = px === -1 ? '' : x.slice(px + 1);
  const fy = py === -1 ? '' : y.slice(py + 1);
  const width = Math.max(fx.length, fy.length);
  const gx = fx.padEnd(width, '0');
  const gy = fy.padEnd(width, '0');
  return gx === gy ? 0 : gx < gy ? -1 : 1;
}

export function addDecimals(a: number | string, b: number | string): string {
  const left = parse(a);
  const right = parse(b);
  const [x, y] = align(left, right);
  return format({ units: x + y, scale: Math.max(left.scale, right.scale) });
}

/** `a - b`, exactly; amounts are never negative, so `b` greater than `a` is a RangeError. */
export function subtractDecimals(a: number | string, b: number | string): string {
  const left = parse(a);
  const right = parse(b);
  const [x, y] = align(left, right);
  if (y > x) throw new RangeError(`${textOf(b)} exceeds ${textOf(a)}`);
  return format({ units: x - y, scale: Math.max(left.scale, right.scale) });
}

/** `units / 10^scale`. */
type Scaled = { units: bigint; scale: number };

/** The validated decimal string of an amount; JSON numbers are expanded once and remembered. */
function textOf(amount: number | string): string {
  if (typeof amount === 'number') {
    let text = NUMBER_TEXT.get(amount);
    if (text === undefined) {
      text = numberToDecimalString(amount);
      if (NUMBER_TEXT.size >= NUMBER_TEXT_LIMIT) NUMBER_TEXT.clear();
      NUMBER_TEXT.set(amount, text);
    }
    return text;
  }
  if (typeof amount !== 'string' || !DECIMAL.test(amount)) throw new RangeError(`Not a decimal amount: ${String(amount)}`);
  return amount;
}

const NUMBER_TEXT = new Map<number, string>();
const NUMBER_TEXT_LIMIT = 10_000;

function parse(amount: number | string): Scaled {
  const text = textOf(amount);
  const point = text.indexOf('.');
  if (point === -1) return { units: BigInt(text), scale: 0 };
  return { units: BigInt(text.slice(0, point) + text.slice(point + 1)), scale: text.length - point - 1 };
}

function align(a: Scaled, b: Scaled): [bigint, bigint] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale)];
}

function format({ units, scale }: Scaled): string {
  if (scale === 0) return units.toString();
  const digits = units.toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}
