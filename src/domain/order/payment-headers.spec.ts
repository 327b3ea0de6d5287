import { canonicalJson, sha256Hex } from '../shared/canonical-json';
import { paymentHeadersFacts, paymentHeadersFingerprint } from './payment-headers';

describe('payment headers fingerprint (§9)', () => {
  it('is the SHA-256 hex of the canonical JSON of the present members', () => {
    const headers = { xPayment: 'eyJwYXkiOjF9', authorization: 'Bearer abc' };
    expect(paymentHeadersFingerprint(headers)).toBe(sha256Hex('{"authorization":"Bearer abc","xPayment":"eyJwYXkiOjF9"}'));
    expect(paymentHeadersFingerprint(headers)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores absent members and member order', () => {
    expect(paymentHeadersFingerprint({ paymentSignature: 's', xPayment: undefined })).toBe(
      sha256Hex(canonicalJson({ paymentSignature: 's' })),
    );
    expect(paymentHeadersFingerprint({ signInWithX: 'a', xPayment: 'b' })).toBe(
      paymentHeadersFingerprint({ xPayment: 'b', signInWithX: 'a' }),
    );
  });

  it('keeps only the four PaymentHeaders members', () => {
    const withExtra = { xPayment: 'b', other: 'x' } as unknown as Parameters<typeof paymentHeadersFingerprint>[0];
    expect(paymentHeadersFingerprint(withExtra)).toBe(paymentHeadersFingerprint({ xPayment: 'b' }));
  });

  it('facts: the fingerprint and whether a payment header is present; null without headers', () => {
    expect(paymentHeadersFacts(undefined)).toBeNull();
    expect(paymentHeadersFacts({})).toBeNull();
    expect(paymentHeadersFacts({ xPayment: 'p' })).toEqual({ fingerprint: paymentHeadersFingerprint({ xPayment: 'p' }), hasPayment: true });
    expect(paymentHeadersFacts({ paymentSignature: 'p' })?.hasPayment).toBe(true);
    expect(paymentHeadersFacts({ authorization: 'a', signInWithX: 's' })?.hasPayment).toBe(false);
  });

  it('never contains the header values', () => {
    expect(JSON.stringify(paymentHeadersFacts({ xPayment: 'SECRET-PAYMENT' }))).not.toContain('SECRET-PAYMENT');
  });
});
