import { isDecimalString } from '../../domain/shared/decimal';

/** §2.2 PEAQOS_USDT_DECIMALS and §7.5.5 `tokenDecimals`: 0..36. */
export const MAX_TOKEN_DECIMALS = 36;

export type RawAmount = { ok: true; raw: bigint } | { ok: false; reason: 'not_decimal' | 'amount_precision' };

/**
 * §7.6 step 5: `amount × 10^decimals` as an exact integer, from the §0.6 decimal string (no floating
 * point). An amount with more fractional digits than `decimals` is refused (`amount_precision`,
 * §7.5.5 step 7) rather than rounded — counted as written, so `"1.50"` has two fractional digits.
 */
export function toRawAmount(amount: string, decimals: number): RawAmount {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_TOKEN_DECIMALS) {
    throw new RangeError(`Token decimals must be an integer in 0..${MAX_TOKEN_DECIMALS}: ${decimals}`);
  }
  if (!isDecimalString(amount)) return { ok: false, reason: 'not_decimal' };
  const point = amount.indexOf('.');
  const whole = point === -1 ? amount : amount.slice(0, point);
  const fraction = point === -1 ? '' : amount.slice(point + 1);
  if (fraction.length > decimals) return { ok: false, reason: 'amount_precision' };
  return { ok: true, raw: BigInt(whole + fraction.padEnd(decimals, '0')) };
}
