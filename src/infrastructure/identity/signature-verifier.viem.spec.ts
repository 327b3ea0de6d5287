import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ViemSignatureVerifier } from './signature-verifier.viem';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

const MESSAGE = [
  'peaqOS Machine Markets signature request',
  'Service: peaqos-machine-markets',
  'Action: machine-identity-proof',
  'Identity Ref: peaqos:machine:42',
  'Challenge ID: chl_01JD8Y6K3W5T2Q9R7M4N0P1B2C',
  `Nonce: ${'ab'.repeat(32)}`,
  'Issued At: 2026-01-01T00:00:00.000Z',
  'Expires At: 2026-01-01T00:05:00.000Z',
].join('\n');

const hex32 = (n: bigint) => n.toString(16).padStart(64, '0');
const split = (sig: string) => ({ r: BigInt(`0x${sig.slice(2, 66)}`), s: BigInt(`0x${sig.slice(66, 130)}`), v: sig.slice(130) });
const join = (r: bigint, s: bigint, v: string) => `0x${hex32(r)}${hex32(s)}${v}`;

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  for (; exp > 0n; exp >>= 1n, base = (base * base) % mod) if (exp & 1n) result = (result * base) % mod;
  return result;
}

/** The smallest x with no point on secp256k1 (x^3 + 7 is a quadratic non-residue mod p). */
function xOffTheCurve(): bigint {
  for (let x = 1n; ; x++) if (modPow((x ** 3n + 7n) % P, (P - 1n) / 2n, P) === P - 1n) return x;
}

describe('ViemSignatureVerifier (§4.5.3 step 6)', () => {
  const verifier = new ViemSignatureVerifier();
  const account = privateKeyToAccount(generatePrivateKey());
  let signature: string;

  beforeAll(async () => {
    signature = await account.signMessage({ message: MESSAGE });
  });

  describe('recovery', () => {
    it('recovers the signer of a personal_sign signature, EIP-55 checksummed', async () => {
      const result = await verifier.recoverPersonalSignSigner(MESSAGE, signature);
      expect(result).toEqual({ ok: true, address: account.address });
    });

    it("recovers another address for another key's signature", async () => {
      const other = privateKeyToAccount(generatePrivateKey());
      const result = await verifier.recoverPersonalSignSigner(MESSAGE, await other.signMessage({ message: MESSAGE }));
      expect(result).toEqual({ ok: true, address: other.address });
      expect(other.address).not.toBe(account.address);
    });

    it('recovers a different address for a signature over a different message', async () => {
      const result = await verifier.recoverPersonalSignSigner(`${MESSAGE}\n`, signature);
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.address).not.toBe(account.address);
    });

    it('accepts v as 0/1 as well as 27/28', async () => {
      const { r, s, v } = split(signature);
      const yParity = v === '1b' ? '00' : '01';
      expect(await verifier.recoverPersonalSignSigner(MESSAGE, join(r, s, yParity))).toEqual({ ok: true, address: account.address });
    });

    it('accepts upper-case hex', async () => {
      const upper = `0x${signature.slice(2).toUpperCase()}`;
      expect(await verifier.recoverPersonalSignSigner(MESSAGE, upper)).toEqual({ ok: true, address: account.address });
    });

    it('accepts the high-s twin of a valid signature and recovers the same signer', async () => {
      const { r, s, v } = split(signature);
      const flipped = v === '1b' ? '1c' : '1b';
      const highS = join(r, N - s, flipped);
      expect(N - s > N / 2n).toBe(true);
      expect(await verifier.recoverPersonalSignSigner(MESSAGE, highS)).toEqual({ ok: true, address: account.address });
      const flippedYParity = flipped === '1b' ? '00' : '01';
      expect(await verifier.recoverPersonalSignSigner(MESSAGE, join(r, N - s, flippedYParity))).toEqual({
        ok: true,
        address: account.address,
      });
    });
  });

  describe('malformed signatures', () => {
    const cases: Array<[string, () => string]> = [
      ['empty', () => ''],
      ['without 0x', () => signature.slice(2)],
      ['64 bytes', () => signature.slice(0, 130)],
      ['66 bytes', () => `${signature}00`],
      ['odd length', () => signature.slice(0, 131)],
      ['non-hex characters', () => `${signature.slice(0, 10)}zz${signature.slice(12)}`],
      ['upper-case 0X prefix', () => `0X${signature.slice(2)}`],
      ['v = 29', () => `${signature.slice(0, 130)}1d`],
      ['v = 2', () => `${signature.slice(0, 130)}02`],
      ['v = 26', () => `${signature.slice(0, 130)}1a`],
      ['r = 0', () => join(0n, split(signature).s, split(signature).v)],
      ['s = 0', () => join(split(signature).r, 0n, split(signature).v)],
      ['r = n', () => join(N, split(signature).s, split(signature).v)],
      ['s = n', () => join(split(signature).r, N, split(signature).v)],
      ['r = 2^256 - 1', () => join((1n << 256n) - 1n, split(signature).s, split(signature).v)],
      ['s = 2^256 - 1', () => join(split(signature).r, (1n << 256n) - 1n, split(signature).v)],
      ['r not the x-coordinate of a curve point', () => join(xOffTheCurve(), split(signature).s, split(signature).v)],
    ];

    it.each(cases)('%s → malformed_signature', async (_name, make) => {
      expect(await verifier.recoverPersonalSignSigner(MESSAGE, make())).toEqual({ ok: false, reason: 'malformed_signature' });
    });
  });
});
