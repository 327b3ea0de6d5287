import { toRawAmount } from './raw-amount';

describe('§7.6 step 5 raw amount = amount × 10^decimals, exactly', () => {
  it.each([
    ['10', 6, 10_000_000n],
    ['10.5', 6, 10_500_000n],
    ['0.000001', 6, 1n],
    ['0', 6, 0n],
    ['7', 0, 7n],
    ['1.23', 2, 123n],
    // Beyond 2^53 and with 36 fractional digits: no floating point anywhere.
    [
      '123456789012345678901234567890.123456789012345678901234567890123456',
      36,
      123456789012345678901234567890123456789012345678901234567890123456n,
    ],
    ['0.1', 18, 100_000_000_000_000_000n],
  ])('%s with %d decimals is %s', (amount, decimals, raw) => {
    expect(toRawAmount(amount, decimals)).toEqual({ ok: true, raw });
  });

  it.each([
    ['1.0000001', 6],
    ['1.50', 1], // counted as written: two fractional digits
    ['0.1', 0],
  ])('refuses %s with %d decimals as amount_precision', (amount, decimals) => {
    expect(toRawAmount(amount, decimals)).toEqual({ ok: false, reason: 'amount_precision' });
  });

  it.each(['', '-1', '+1', '1e6', '01', '1.', '.5', '1,000', ' 1', `0.${'1'.repeat(37)}`])('refuses %p as not a decimal', (amount) => {
    expect(toRawAmount(amount, 36)).toEqual({ ok: false, reason: 'not_decimal' });
  });

  it.each([-1, 37, 1.5, Number.NaN])('throws for decimals %p (validated before)', (decimals) => {
    expect(() => toRawAmount('1', decimals)).toThrow(RangeError);
  });
});
