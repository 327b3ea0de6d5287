import { createHmac } from 'node:crypto';

export type NonceInput = { challengeId: string; identityRef: string; issuedAt: string; expiresAt: string };

/**
 * §4.5.1: lower-case hex HMAC-SHA-256, keyed with the session secret, over
 * "machine-identity\n" + challengeId + "\n" + identityRef + "\n" + issuedAt + "\n" + expiresAt.
 * The secret is passed in; the domain never reads configuration.
 */
export function machineIdentityNonce(secret: string | Buffer, challenge: NonceInput): string {
  const material = ['machine-identity', challenge.challengeId, challenge.identityRef, challenge.issuedAt, challenge.expiresAt].join('\n');
  return createHmac('sha256', secret).update(material, 'utf8').digest('hex');
}
