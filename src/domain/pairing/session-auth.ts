import { DomainError } from '../shared/domain-error';
import { AgentPairing, AgentPairingState, pairingInactive } from './agent-pairing.decider';

/** §1.2: exactly the nine claims of an agent pairing token. */
export type SessionClaims = {
  machineId: string;
  pairingId: string;
  sessionId: string;
  /** EIP-55. */
  agentAddress: string;
  agentDid: string;
  /** §5.6 hash of the delegation policy at issuance. */
  delegationPolicyHash: string;
  /** NumericDate seconds. */
  iat: number;
  /** `iat + floor(PEAQOS_AGENT_PAIRING_SESSION_TTL_MS / 1000)`. */
  exp: number;
  /** Lower-case UUID v4; equals `AgentPairing.sessionTokenId`. */
  jti: string;
};

/** The claim names, in the order the token carries them. */
export const SESSION_CLAIM_NAMES = [
  'machineId',
  'pairingId',
  'sessionId',
  'agentAddress',
  'agentDid',
  'delegationPolicyHash',
  'iat',
  'exp',
  'jti',
] as const satisfies ReadonlyArray<keyof SessionClaims>;

/** Why a token failed §1.2 steps 2–4, which need only the token, the secret and the clock. */
export type SessionTokenFailure = { reason: 'malformed' } | { reason: 'bad_signature' } | { reason: 'expired'; expiredAt: string };

export type AgentAuthInvalidReason =
  | 'malformed'
  | 'bad_signature'
  | 'unknown_pairing'
  | 'pairing_revoked'
  | 'session_rotated'
  | 'policy_changed'
  | 'machine_mismatch'
  | 'pairing_mismatch';

/** §1.2 step 1: a required header that is absent or empty. */
export function agentAuthRequired(): DomainError {
  return new DomainError('AGENT_AUTH_REQUIRED', 'This endpoint requires an x-agent-pairing-token header');
}

/** §1.2 steps 2–4 as API errors. */
export function sessionTokenError(failure: SessionTokenFailure): DomainError {
  if (failure.reason === 'expired') {
    return new DomainError('AGENT_AUTH_EXPIRED', `The pairing token expired at ${failure.expiredAt}`, { expiredAt: failure.expiredAt });
  }
  return agentAuthInvalid(failure.reason);
}

/**
 * §1.2 steps 5–8 for a token whose signature and expiry were verified: the pairing (folded from the
 * stream named by the `pairingId` claim) must exist for the claimed machine, be active, hold the
 * token's session, and still have the policy the token was issued with. Returns the pairing.
 */
export function checkSessionAgainstPairing(state: AgentPairingState, claims: SessionClaims): AgentPairing {
  // Step 5.
  if (state.kind === 'none' || state.pairing.id !== claims.pairingId || state.pairing.machineId !== claims.machineId) {
    throw agentAuthInvalid('unknown_pairing');
  }
  const { pairing } = state;
  // Step 6.
  if (pairing.status === 'revoked') throw agentAuthInvalid('pairing_revoked');
  if (pairing.status === 'paused') {
    throw pairingInactive(pairing.id, 'paused');
  }
  // Step 7: rotated, or cleared by revocation.
  if (claims.sessionId !== pairing.sessionId || claims.jti !== pairing.sessionTokenId) throw agentAuthInvalid('session_rotated');
  // Step 8.
  if (claims.delegationPolicyHash !== state.delegationPolicyHash) throw agentAuthInvalid('policy_changed');
  return pairing;
}

/**
 * §1.2 step 9: the machine the request acts on must be the token's; a pairing the request names (body
 * `agentPairingId`, or the order's) must be the token's.
 */
export function checkSessionBinding(claims: SessionClaims, target: { machineId: string; pairingId?: string | null }): void {
  if (target.machineId !== claims.machineId) throw agentAuthInvalid('machine_mismatch');
  if (target.pairingId !== undefined && target.pairingId !== null && target.pairingId !== claims.pairingId) {
    throw agentAuthInvalid('pairing_mismatch');
  }
}

export function agentAuthInvalid(reason: AgentAuthInvalidReason): DomainError {
  return new DomainError('AGENT_AUTH_INVALID', `Invalid agent pairing token: ${reason.replace(/_/g, ' ')}`, { reason });
}
