import { parseEip55Address, toEip55Address } from './eip55-address';
import { normaliseIdentityRef } from './identity-ref';

/** The test vectors of EIP-55 itself (https://eips.ethereum.org/EIPS/eip-55). */
const EIP55_VECTORS = [
  // All caps
  '0x52908400098527886E0F7030069857D2E4169EE7',
  '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
  // All lower
  '0xde709f2102306220921060314715629080e2fb77',
  '0x27b1fdb04752bbc536007a920d24acb045561c26',
  // Normal
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
  '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
  '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
];

const CHECKSUMMED = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
/** One letter's case flipped: a broken checksum. */
const BAD_CHECKSUM = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD';

describe('EIP-55 checksum', () => {
  it.each(EIP55_VECTORS)('%s is its own checksum form', (address) => {
    expect(toEip55Address(address.toLowerCase())).toBe(address);
    expect(toEip55Address(address.toUpperCase().replace('0X', '0x'))).toBe(address);
    expect(parseEip55Address(address)).toBe(address);
  });

  it('refuses a mixed-case address with a wrong checksum', () => expect(parseEip55Address(BAD_CHECKSUM)).toBeNull());
});

describe('normaliseIdentityRef (§4.2)', () => {
  describe('peaq DID (Tokenomics 1.0)', () => {
    it.each(EIP55_VECTORS)('normalises did:peaq:%s to itself', (address) =>
      expect(normaliseIdentityRef(`did:peaq:${address}`)).toEqual({ ok: true, value: `did:peaq:${address}`, form: 'did', address }),
    );

    it('checksums an all-lower-case address', () =>
      expect(normaliseIdentityRef(`did:peaq:${CHECKSUMMED.toLowerCase()}`)).toEqual({
        ok: true,
        value: `did:peaq:${CHECKSUMMED}`,
        form: 'did',
        address: CHECKSUMMED,
      }));

    it('checksums an all-upper-case address', () =>
      expect(normaliseIdentityRef(`did:peaq:0x${CHECKSUMMED.slice(2).toUpperCase()}`)).toMatchObject({
        ok: true,
        value: `did:peaq:${CHECKSUMMED}`,
      }));

    it.each([
      ['a mixed-case address with a wrong checksum', `did:peaq:${BAD_CHECKSUM}`],
      ['39 hex characters', `did:peaq:${CHECKSUMMED.slice(0, -1)}`],
      ['41 hex characters', `did:peaq:${CHECKSUMMED}0`],
      ['a non-hex character', `did:peaq:0x${'g'.repeat(40)}`],
      ['no 0x', `did:peaq:${CHECKSUMMED.slice(2)}`],
      ['an upper-case 0X', `did:peaq:0X${CHECKSUMMED.slice(2)}`],
      ['an upper-case prefix', `DID:PEAQ:${CHECKSUMMED}`],
      ['a mixed-case prefix', `did:Peaq:${CHECKSUMMED}`],
      ['an Economics 2.0 decimal DID', 'did:peaq:123456789'],
      ['a leading space', ` did:peaq:${CHECKSUMMED}`],
      ['a trailing newline', `did:peaq:${CHECKSUMMED}\n`],
      ['another DID method', `did:ethr:${CHECKSUMMED}`],
    ])('rejects %s', (_name, raw) => expect(normaliseIdentityRef(raw)).toEqual({ ok: false }));
  });

  describe('peaqOS machine public ID', () => {
    const MAX = ((1n << 256n) - 1n).toString();

    it.each(['1', '42', '9'.repeat(77), MAX])('keeps peaqos:machine:%s unchanged', (id) =>
      expect(normaliseIdentityRef(`peaqos:machine:${id}`)).toEqual({ ok: true, value: `peaqos:machine:${id}`, form: 'machine-id' }),
    );

    it.each([
      ['zero', '0'],
      ['a leading zero', '042'],
      ['2^256', (1n << 256n).toString()],
      ['79 digits', '1'.repeat(79)],
      ['a sign', '+1'],
      ['a negative number', '-1'],
      ['hex', '0x2a'],
      ['a decimal point', '1.0'],
      ['nothing', ''],
      ['a trailing space', '1 '],
    ])('rejects %s', (_name, id) => expect(normaliseIdentityRef(`peaqos:machine:${id}`)).toEqual({ ok: false }));

    it('rejects an upper-case prefix', () => expect(normaliseIdentityRef('PEAQOS:MACHINE:1')).toEqual({ ok: false }));
  });

  it.each([[''], ['machine:1'], [null], [42], [undefined], [{}]])('rejects %p', (raw) =>
    expect(normaliseIdentityRef(raw)).toEqual({ ok: false }),
  );
});
