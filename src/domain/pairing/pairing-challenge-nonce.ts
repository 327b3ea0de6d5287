import { createHmac } from 'node:crypto';

export type PairingNonceInput = { challengeId: string; machineId: string; agentAddress: string; issuedAt: string; expiresAt: string };

/**
 * §5.4.1: lower-case hex HMAC-SHA-256, keyed with the session secret, over
 * "agent-pairing\n" + challengeId + "\n" + machineId + "\n" + agentAddress + "\n" + issuedAt + "\n" + expiresAt.
 * The secret is passed in; the domain never reads configuration.
 */
export function agentPairingNonce(secret: string | Buffer, challenge: PairingNonceInput): string {
  const material = [
    'agent-pairing',
    challenge.challengeId,
    challenge.machineId,
    challenge.agentAddress,
    challenge.issuedAt,
    challenge.expiresAt,
  ].join('\n');
  return createHmac('sha256', secret).update(material, 'utf8').digest('hex');
}
