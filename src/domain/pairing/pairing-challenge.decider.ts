import { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import { isExpiredAt } from '../shared/time';
import { agentPairingMessage, PairingMessageInput } from './pairing-challenge-message';

/** §5.1 `AgentPairingChallenge`, as the API returns it. */
export type AgentPairingChallenge = {
  challengeId: string;
  machineId: string;
  agentAddress: string;
  agentDid: string;
  agentProvider: string;
  agentRole: string;
  message: string;
  nonce: string;
  issuedAt: string;
  expiresAt: string;
};

/** What a challenge may be used for, with the values §5.4.3 step 2 compares. */
export type PairingChallengeUse =
  /** Creation: machine, agent address, DID, provider and role, all normalised. */
  | { use: 'create'; machineId: string; agentAddress: string; agentDid: string; agentProvider: string; agentRole: string }
  /** Session rotation: machine and the pairing's agent address only (§10.1 item 31). */
  | { use: 'rotate'; machineId: string; agentAddress: string };

export type AgentPairingChallengeEvent =
  | { type: 'agent_pairing_challenge.issued'; data: AgentPairingChallenge }
  | {
      type: 'agent_pairing_challenge.consumed';
      data: { challengeId: string; use: PairingChallengeUse['use']; pairingId: string; at: string };
    };

/** Expiry is not a state: it is `now >= expiresAt`, checked when the challenge is used (§0.4). */
export type AgentPairingChallengeState =
  | { kind: 'none' }
  | { kind: 'issued'; challenge: AgentPairingChallenge }
  | { kind: 'consumed'; challenge: AgentPairingChallenge; consumedAt: string; use: PairingChallengeUse['use']; pairingId: string };

export type AgentPairingChallengeCommand =
  /** `identityRef` (the machine's, normalised) and the nonce (`agentPairingNonce`, §5.4.1) come from the handler. */
  | ({ type: 'issue' } & PairingMessageInput)
  | {
      type: 'consume';
      challengeId: string;
      /** The use the successful request made of the challenge (§5.4.3 step 2, checked again). */
      expected: PairingChallengeUse;
      /** The pairing created or rotated. */
      pairingId: string;
    };

const ENTITY = 'agent-pairing-challenge';

export const pairingChallengeDecider: Decider<AgentPairingChallengeCommand, AgentPairingChallengeState, AgentPairingChallengeEvent> = {
  initialState: () => ({ kind: 'none' }),

  evolve(state, event) {
    switch (event.type) {
      case 'agent_pairing_challenge.issued':
        return state.kind === 'none' ? { kind: 'issued', challenge: event.data } : state;
      case 'agent_pairing_challenge.consumed':
        return state.kind === 'issued'
          ? {
              kind: 'consumed',
              challenge: state.challenge,
              consumedAt: event.data.at,
              use: event.data.use,
              pairingId: event.data.pairingId,
            }
          : state;
    }
  },

  decide(command, state, { now }) {
    switch (command.type) {
      case 'issue': {
        if (state.kind !== 'none') {
          throw new DomainError('STATE_CONFLICT', `${ENTITY} ${command.challengeId} already exists`, {
            entityType: ENTITY,
            id: command.challengeId,
            status: state.kind,
            reason: 'exists',
          });
        }
        const { challengeId, machineId, agentAddress, agentDid, agentProvider, agentRole, nonce, issuedAt, expiresAt } = command;
        const message = agentPairingMessage(command);
        const challenge: AgentPairingChallenge = {
          challengeId,
          machineId,
          agentAddress,
          agentDid,
          agentProvider,
          agentRole,
          message,
          nonce,
          issuedAt,
          expiresAt,
        };
        return [{ type: 'agent_pairing_challenge.issued', data: challenge }];
      }
      case 'consume': {
        // The request that consumes the challenge re-checks steps 1–4 at its own time; with the
        // append's expected revision this makes the challenge single-use under concurrency (§5.4.3).
        const challenge = checkChallengeState(state, command.challengeId, command.expected, now);
        return [
          {
            type: 'agent_pairing_challenge.consumed',
            data: { challengeId: challenge.challengeId, use: command.expected.use, pairingId: command.pairingId, at: now },
          },
        ];
      }
    }
  },
};

export type PairingProofCheck = {
  challengeId: string;
  expected: PairingChallengeUse;
  now: string;
  /**
   * Recomputes the nonce of the stored challenge with the current secret, e.g.
   * `(c) => agentPairingNonce(secret, c)`; only called once steps 1–4 have passed.
   */
  recomputeNonce: (challenge: AgentPairingChallenge) => string;
};

/**
 * §5.4.3 steps 1–5 on the stored challenge (folded from its stream). Returns the challenge when they
 * pass; steps 6–7 (signature recovery, signer) need the SignatureVerifier port and are the handler's.
 */
export function verifyPairingChallengeForProof(state: AgentPairingChallengeState, check: PairingProofCheck): AgentPairingChallenge {
  const challenge = checkChallengeState(state, check.challengeId, check.expected, check.now);
  // Step 5.
  if (check.recomputeNonce(challenge) !== challenge.nonce) throw proofInvalid('nonce_mismatch', challenge.challengeId);
  return challenge;
}

/** §5.4.3 step 7: the recovered signer must be the agent address (case-insensitive). */
export function assertAgentSigner(challengeId: string, recoveredSigner: string, agentAddress: string): void {
  if (recoveredSigner.toLowerCase() !== agentAddress.toLowerCase()) throw proofInvalid('signer_mismatch', challengeId);
}

/** Steps 1–4, in order. */
function checkChallengeState(
  state: AgentPairingChallengeState,
  challengeId: string,
  expected: PairingChallengeUse,
  now: string,
): AgentPairingChallenge {
  if (state.kind === 'none' || state.challenge.challengeId !== challengeId) throw proofInvalid('challenge_not_found', challengeId);
  const { challenge } = state;
  if (!matches(challenge, expected)) throw proofInvalid('challenge_mismatch', challengeId);
  if (state.kind === 'consumed') throw proofInvalid('challenge_used', challengeId);
  if (isExpiredAt(now, challenge.expiresAt)) {
    throw new DomainError('AGENT_PAIRING_PROOF_EXPIRED', `${ENTITY} ${challengeId} expired`, {
      challengeId,
      expiresAt: challenge.expiresAt,
    });
  }
  return challenge;
}

/** Step 2. Addresses are compared case-insensitively; the other values are normalised and compared exactly. */
function matches(challenge: AgentPairingChallenge, expected: PairingChallengeUse): boolean {
  if (challenge.machineId !== expected.machineId) return false;
  if (challenge.agentAddress.toLowerCase() !== expected.agentAddress.toLowerCase()) return false;
  if (expected.use === 'rotate') return true;
  return (
    challenge.agentDid === expected.agentDid &&
    challenge.agentProvider === expected.agentProvider &&
    challenge.agentRole === expected.agentRole
  );
}

export type PairingProofInvalidReason =
  'challenge_not_found' | 'challenge_mismatch' | 'challenge_used' | 'nonce_mismatch' | 'malformed_signature' | 'signer_mismatch';

/** `403 AGENT_PAIRING_PROOF_INVALID` with the §5.4.3 reason. */
export function proofInvalid(reason: PairingProofInvalidReason, challengeId: string): DomainError {
  return new DomainError('AGENT_PAIRING_PROOF_INVALID', `agent pairing proof invalid: ${reason.replace(/_/g, ' ')}`, {
    reason,
    challengeId,
  });
}

export function pairingChallengeStream(id: string, machineId: string | null) {
  return { streamId: `${ENTITY}-${id}`, entityType: ENTITY, entityId: id, machineId };
}
