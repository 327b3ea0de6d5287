import { randomBytes } from 'node:crypto';
import { getAddress } from 'viem';
import { parseEip55Address, toEip55Address } from './eip55-address';

/** The test vectors of EIP-55. */
const VECTORS = [
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
  '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
  '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
];

describe('EIP-55 addresses', () => {
  it('checksums the EIP-55 vectors from any case, the same on every call', () => {
    for (const v of VECTORS) {
      expect(toEip55Address(v.toLowerCase())).toBe(v);
      expect(toEip55Address(`0x${v.slice(2).toUpperCase()}`)).toBe(v);
      expect(toEip55Address(v.toLowerCase())).toBe(v);
    }
  });

  it('agrees with viem on random addresses, beyond the size of its cache', () => {
    for (let i = 0; i < 12_000; i++) {
      const address = `0x${randomBytes(20).toString('hex')}`;
      expect(toEip55Address(address)).toBe(getAddress(address));
    }
    for (const v of VECTORS) expect(toEip55Address(v.toLowerCase())).toBe(v);
  });

  it('accepts one-case hex and a valid checksum; refuses a wrong checksum, however often asked', () => {
    const [v] = VECTORS;
    // The case of its first letter flipped.
    const i = v.search(/[a-fA-F]/);
    const wrong = v.slice(0, i) + (v[i] === v[i].toLowerCase() ? v[i].toUpperCase() : v[i].toLowerCase()) + v.slice(i + 1);
    for (let i = 0; i < 2; i++) {
      expect(parseEip55Address(v)).toBe(v);
      expect(parseEip55Address(v.toLowerCase())).toBe(v);
      expect(parseEip55Address(wrong)).toBeNull();
      expect(parseEip55Address(`0X${v.slice(2)}`)).toBeNull();
    }
  });
});
