export type SignerRecovery = { ok: true; /** EIP-55 checksummed */ address: string } | { ok: false; reason: 'malformed_signature' };

/**
 * EIP-191 `personal_sign` signer recovery (§4.5.3 step 6, §4.5.2). A signature is accepted when it is
 * 65 bytes (`0x` + 130 hex characters, r || s || v), `v` is one of 0, 1, 27, 28, r and s lie in
 * [1, n - 1] and a public key can be recovered from it. High-s signatures are accepted (no EIP-2
 * low-s rule). Everything else is `malformed_signature`; the port never throws for a bad signature.
 */
export interface SignatureVerifier {
  recoverPersonalSignSigner(message: string, signature: string): Promise<SignerRecovery>;
}

export const SIGNATURE_VERIFIER = Symbol('SignatureVerifier');
