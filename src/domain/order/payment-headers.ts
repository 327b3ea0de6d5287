import { canonicalHash } from '../shared/canonical-json';

/** §0.7 `PaymentHeaders`. Secret: never stored, only fingerprinted (§9). */
export type PaymentHeaders = {
  xPayment?: string;
  paymentSignature?: string;
  authorization?: string;
  signInWithX?: string;
};

const MEMBERS = ['xPayment', 'paymentSignature', 'authorization', 'signInWithX'] as const;

/**
 * What a decision may know about a request's payment headers: their §9 fingerprint, and whether they
 * carry a payment (`xPayment` or `paymentSignature`). The raw values never reach a decider.
 */
export type PaymentHeadersFacts = { fingerprint: string; hasPayment: boolean };

/**
 * §9: the lower-case SHA-256 hex of the canonical JSON (§0.12) of the `PaymentHeaders` object holding
 * only the members that were present.
 */
export function paymentHeadersFingerprint(headers: PaymentHeaders): string {
  const present: Record<string, string> = {};
  for (const member of MEMBERS) {
    const value = headers[member];
    if (value !== undefined) present[member] = value;
  }
  return canonicalHash(present);
}

/** The facts of a request's payment headers, or `null` when it sent none. */
export function paymentHeadersFacts(headers: PaymentHeaders | null | undefined): PaymentHeadersFacts | null {
  if (!headers || MEMBERS.every((member) => headers[member] === undefined)) return null;
  return {
    fingerprint: paymentHeadersFingerprint(headers),
    hasPayment: headers.xPayment !== undefined || headers.paymentSignature !== undefined,
  };
}
