import { hashMessage, recoverAddress, type Hex } from 'viem';
import { SignatureVerifier, SignerRecovery } from '../../application/ports/signature-verifier.port';

/** Order of the secp256k1 group. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N >> 1n;
const SIGNATURE_HEX = /^0x[0-9a-fA-F]{130}$/;
const MALFORMED: SignerRecovery = { ok: false, reason: 'malformed_signature' };

/**
 * viem-based recovery. The signature is parsed and range-checked here rather than left to viem, so
 * that the accepted set is exactly §4.5.3 step 6 whatever viem's version does: v 0/1 are mapped to
 * 27/28, and a high-s signature is rewritten to its low-s twin (s' = n - s, recovery bit flipped),
 * which recovers the same public key — so high-s is accepted even if the curve library rejects it.
 */
export class ViemSignatureVerifier implements SignatureVerifier {
  async recoverPersonalSignSigner(message: string, signature: string): Promise<SignerRecovery> {
    const parsed = parseSignature(signature);
    if (!parsed) return MALFORMED;
    try {
      const address = await recoverAddress({ hash: hashMessage(message), signature: serialise(lowS(parsed)) });
      return { ok: true, address };
    } catch {
      // r is not the x-coordinate of a curve point, or the recovered point is infinity.
      return MALFORMED;
    }
  }
}

type ParsedSignature = { r: bigint; s: bigint; yParity: 0 | 1 };

function parseSignature(signature: string): ParsedSignature | null {
  if (typeof signature !== 'string' || !SIGNATURE_HEX.test(signature)) return null;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130), 16);
  if (r === 0n || r >= SECP256K1_N || s === 0n || s >= SECP256K1_N) return null;
  if (v === 0 || v === 27) return { r, s, yParity: 0 };
  if (v === 1 || v === 28) return { r, s, yParity: 1 };
  return null;
}

function lowS(signature: ParsedSignature): ParsedSignature {
  if (signature.s <= HALF_N) return signature;
  return { r: signature.r, s: SECP256K1_N - signature.s, yParity: signature.yParity === 0 ? 1 : 0 };
}

function serialise({ r, s, yParity }: ParsedSignature): Hex {
  const hex32 = (n: bigint) => n.toString(16).padStart(64, '0');
  return `0x${hex32(r)}${hex32(s)}${yParity === 0 ? '1b' : '1c'}`;
}
