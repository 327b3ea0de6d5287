import {
  addDecimals,
  compareDecimals,
  isDecimalString,
  MAX_FRACTION_DIGITS,
  numberToDecimalString,
  subtractDecimals,
  toDecimal,
} from './decimal';

describe('§0.6 exact decimals', () => {
  describe('isDecimalString', () => {
    it.each(['0', '1', '10', '1.5', '0.0000001', '123456789012345678901234567890.25', `0.${'1'.repeat(MAX_FRACTION_DIGITS)}`])(
      'accepts %s',
      (value) => expect(isDecimalString(value)).toBe(true),
    );

    it.each([
      ['a leading zero', '01'],
      ['a sign', '-1'],
      ['a plus sign', '+1'],
      ['an exponent', '1e5'],
      ['a thousands separator', '1,000'],
      ['a bare point', '1.'],
      ['a leading point', '.5'],
      ['whitespace', ' 1'],
      ['the empty string', ''],
      ['37 fractional digits', `0.${'1'.repeat(MAX_FRACTION_DIGITS + 1)}`],
    ])('rejects %s', (_label, value) => expect(isDecimalString(value)).toBe(false));

    it('rejects non-strings', () => {
      expect(isDecimalString(1)).toBe(false);
      expect(isDecimalString(null)).toBe(false);
    });
  });

  describe('numberToDecimalString (shortest round trip, exponent expanded)', () => {
    it.each<[number, string]>([
      [0, '0'],
      [-0, '0'],
      [5, '5'],
      [25.5, '25.5'],
      [0.1, '0.1'],
      [1e-7, '0.0000001'],
      [1.5e-7, '0.00000015'],
      [123e-20, '0.00000000000000000123'],
      [1e21, '1000000000000000000000'],
      [1.2345e21, '1234500000000000000000'],
      [1.7976931348623157e308, '17976931348623157' + '0'.repeat(292)],
      [5e-324, `0.${'0'.repeat(323)}5`],
    ])('%p → %s', (value, expected) => expect(numberToDecimalString(value)).toBe(expected));

    it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses %p', (value) =>
      expect(() => numberToDecimalString(value)).toThrow(RangeError),
    );
  });

  describe('toDecimal', () => {
    it('drops trailing fractional zeros of strings', () => {
      expect(toDecimal('1.50')).toBe('1.5');
      expect(toDecimal('2.000')).toBe('2');
      expect(toDecimal('0.0')).toBe('0');
      expect(toDecimal('10')).toBe('10');
    });

    it('converts numbers', () => expect(toDecimal(1e-7)).toBe('0.0000001'));

    it('refuses anything that is not a decimal', () => {
      expect(() => toDecimal('1e5')).toThrow(RangeError);
      expect(() => toDecimal('-1')).toThrow(RangeError);
    });
  });

  describe('compareDecimals', () => {
    it.each<[string | number, string | number, -1 | 0 | 1]>([
      ['1', '1.0', 0],
      ['0.1', '0.10000', 0],
      ['1.5', '1.49999999999999999999999999999999', 1],
      ['0.000000000000000000000000000000000001', '0', 1],
      ['9', '10', -1],
      [0.1, '0.1', 0],
      ['1000000000000000000000000000000000000', '999999999999999999999999999999999999.9', 1],
    ])('%p vs %p → %p', (a, b, expected) => expect(compareDecimals(a, b)).toBe(expected));
  });

  describe('subtractDecimals', () => {
    it('subtracts exactly, aligning scales, normalised', () => {
      expect(subtractDecimals('0.3', '0.1')).toBe('0.2');
      expect(subtractDecimals('1', '0.001')).toBe('0.999');
      expect(subtractDecimals('12.75', '0.25')).toBe('12.5');
      expect(subtractDecimals('2.5', 2.5)).toBe('0');
      expect(subtractDecimals('9007199254740994', '1')).toBe('9007199254740993');
    });

    it('refuses a result below zero (amounts are never negative)', () => expect(() => subtractDecimals('1', '1.01')).toThrow(RangeError));
  });

  describe('addDecimals', () => {
    it('adds exactly where floating point does not (0.1 + 0.2)', () => {
      expect(0.1 + 0.2).not.toBe(0.3);
      expect(addDecimals(0.1, 0.2)).toBe('0.3');
      expect(addDecimals('0.1', '0.2')).toBe('0.3');
    });

    it('aligns scales and carries', () => {
      expect(addDecimals('0.999', '0.001')).toBe('1');
      expect(addDecimals('12.5', '0.25')).toBe('12.75');
      expect(addDecimals('0.000000000000000000000000000000000001', '1')).toBe('1.000000000000000000000000000000000001');
    });

    it('keeps integers beyond 2^53 exact', () => expect(addDecimals('9007199254740993', '1')).toBe('9007199254740994'));

    it('sums any number of amounts in turn, exactly', () => {
      const sumDecimals = (amounts: Array<number | string>) => amounts.reduce<string>((total, amount) => addDecimals(total, amount), '0');
      expect(sumDecimals([])).toBe('0');
      expect(sumDecimals(['1.1', 2.2, '3.3'])).toBe('6.6');
      expect(sumDecimals(Array.from({ length: 10 }, () => 0.1))).toBe('1');
    });
  });
});
