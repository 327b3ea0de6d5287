import { isExpiredAt, isoFromNumericDate, numericDate, utcDay } from './time';

describe('time rules', () => {
  it('§0.4: expired when now >= expiresAt', () => {
    expect(isExpiredAt('2026-01-01T00:04:59.999Z', '2026-01-01T00:05:00.000Z')).toBe(false);
    expect(isExpiredAt('2026-01-01T00:05:00.000Z', '2026-01-01T00:05:00.000Z')).toBe(true);
    expect(isExpiredAt('2026-01-01T00:05:00.001Z', '2026-01-01T00:05:00.000Z')).toBe(true);
  });

  it('§5.7: the UTC day runs from midnight inclusive to the next midnight exclusive', () => {
    expect(utcDay('2026-03-01T00:00:00.000Z')).toBe('2026-03-01');
    expect(utcDay('2026-03-01T23:59:59.999Z')).toBe('2026-03-01');
    expect(utcDay('2026-02-28T23:59:59.999Z')).toBe('2026-02-28');
  });

  it('§0.4: NumericDate seconds mirror as ISO timestamps ending in .000Z', () => {
    expect(isoFromNumericDate(1767225600)).toBe('2026-01-01T00:00:00.000Z');
    expect(numericDate('2026-01-01T00:00:00.999Z')).toBe(1767225600);
    expect(numericDate(new Date('2026-01-01T00:00:01.000Z'))).toBe(1767225601);
  });
});
