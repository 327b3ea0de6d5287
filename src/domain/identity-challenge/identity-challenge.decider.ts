import { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import { machineIdentityMessage } from './challenge-message';

/** §4.1 `MachineIdentityChallenge`, as the API returns it. */
export type MachineIdentityChallenge = {
  challengeId: string;
  identityRef: string;
  message: string;
  nonce: string;
  issuedAt: string;
  expiresAt: string;
  controllerAddresses: string[];
};

/** What a consumed challenge was used for: the machine written, or a free-form purpose. */
export type ChallengeUse = { machineId?: string; purpose?: string };

export type IdentityChallengeEvent =
  | { type: 'machine_identity_challenge.issued'; data: MachineIdentityChallenge }
  | { type: 'machine_identity_challenge.consumed'; data: { challengeId: string } & ChallengeUse & { at: string } };

/** Expiry is not a state: it is `now >= expiresAt`, checked when the challenge is used (§0.4). */
export type IdentityChallengeState =
  | { kind: 'none' }
  | { kind: 'issued'; challenge: MachineIdentityChallenge }
  | { kind: 'consumed'; challenge: MachineIdentityChallenge; consumedAt: string; use: ChallengeUse };

export type IdentityChallengeCommand =
  | {
      type: 'issue';
      challengeId: string;
      /** Normalised (§4.2). */
      identityRef: string;
      /** Computed by the handler with `machineIdentityNonce` (§4.5.1). */
      nonce: string;
      issuedAt: string;
      expiresAt: string;
      /** EIP-55, resolved through MCR (§4.3). */
      controllerAddresses: string[];
    }
  | ({
      type: 'consume';
      challengeId: string;
      /** The identity the successful write was for (§4.5.3 step 2, checked again). */
      identityRef: string;
    } & ChallengeUse);

export const identityChallengeDecider: Decider<IdentityChallengeCommand, IdentityChallengeState, IdentityChallengeEvent> = {
  initialState: () => ({ kind: 'none' }),

  evolve(state, event) {
    switch (event.type) {
      case 'machine_identity_challenge.issued':
        return state.kind === 'none' ? { kind: 'issued', challenge: event.data } : state;
      case 'machine_identity_challenge.consumed': {
        if (state.kind !== 'issued') return state;
        const { machineId, purpose, at } = event.data;
        return {
          kind: 'consumed',
          challenge: state.challenge,
          consumedAt: at,
          use: { ...(machineId !== undefined ? { machineId } : {}), ...(purpose !== undefined ? { purpose } : {}) },
        };
      }
    }
  },

  decide(command, state, { now }) {
    switch (command.type) {
      case 'issue': {
        if (state.kind !== 'none') {
          throw new DomainError('STATE_CONFLICT', `machine-identity-challenge ${command.challengeId} already exists`, {
            entityType: 'machine-identity-challenge',
            id: command.challengeId,
            status: state.kind,
            reason: 'exists',
          });
        }
        const { challengeId, identityRef, nonce, issuedAt, expiresAt } = command;
        const challenge: MachineIdentityChallenge = {
          challengeId,
          identityRef,
          message: machineIdentityMessage({ challengeId, identityRef, nonce, issuedAt, expiresAt }),
          nonce,
          issuedAt,
          expiresAt,
          controllerAddresses: [...command.controllerAddresses],
        };
        return [{ type: 'machine_identity_challenge.issued', data: challenge }];
      }
      case 'consume': {
        // Recorded after the write that used the challenge succeeded (the machine stream is the commit
        // point and remembers its challenges), so expiry is not checked again here: a challenge verified
        // just before its expiry stays consumed. Steps 1–3 still hold, so a second use is refused.
        const challenge = checkChallengeState(state, command.challengeId, command.identityRef, null);
        const use: ChallengeUse = {
          ...(command.machineId !== undefined ? { machineId: command.machineId } : {}),
          ...(command.purpose !== undefined ? { purpose: command.purpose } : {}),
        };
        return [{ type: 'machine_identity_challenge.consumed', data: { challengeId: challenge.challengeId, ...use, at: now } }];
      }
    }
  },
};

export type ChallengeProofCheck = {
  challengeId: string;
  /** The normalised identityRef the proof is presented for. */
  identityRef: string;
  now: string;
  /**
   * Recomputes the nonce of the stored challenge with the current secret, e.g.
   * `(c) => machineIdentityNonce(secret, c)`; only called once steps 1–4 have passed.
   */
  recomputeNonce: (challenge: MachineIdentityChallenge) => string;
};

/**
 * §4.5.3 steps 1–5 on the stored challenge (folded from its stream). Returns the challenge when they
 * pass; steps 6–8 (signature, MCR, controller) need I/O and are the handler's.
 */
export function verifyChallengeForProof(state: IdentityChallengeState, check: ChallengeProofCheck): MachineIdentityChallenge {
  const challenge = checkChallengeState(state, check.challengeId, check.identityRef, check.now);
  // Step 5.
  if (check.recomputeNonce(challenge) !== challenge.nonce) throw proofInvalid('nonce_mismatch', challenge.challengeId);
  return challenge;
}

/** Steps 1–4, in order; step 4 (expiry) only with a `now`. */
function checkChallengeState(
  state: IdentityChallengeState,
  challengeId: string,
  identityRef: string,
  now: string | null,
): MachineIdentityChallenge {
  if (state.kind === 'none' || state.challenge.challengeId !== challengeId) throw proofInvalid('challenge_not_found', challengeId);
  const { challenge } = state;
  if (challenge.identityRef !== identityRef) throw proofInvalid('challenge_mismatch', challengeId);
  if (state.kind === 'consumed') throw proofInvalid('challenge_used', challengeId);
  if (now !== null && isExpired(now, challenge.expiresAt)) {
    throw new DomainError('MACHINE_IDENTITY_PROOF_EXPIRED', `machine identity challenge ${challengeId} expired`, {
      challengeId,
      expiresAt: challenge.expiresAt,
    });
  }
  return challenge;
}

/** §0.4: `t` is expired relative to `expiresAt` when `t >= expiresAt`. */
export function isExpired(now: string, expiresAt: string): boolean {
  return Date.parse(now) >= Date.parse(expiresAt);
}

/** The `reason`s of §4.5.3 (MCR outcomes of step 7 are mapped in application/identity). */
export type MachineProofInvalidReason =
  'challenge_not_found' | 'challenge_mismatch' | 'challenge_used' | 'nonce_mismatch' | 'malformed_signature' | 'signer_not_controller';

/** `403 MACHINE_IDENTITY_PROOF_INVALID` with `{ reason, challengeId }`. */
export function proofInvalid(reason: MachineProofInvalidReason, challengeId: string): DomainError {
  return new DomainError('MACHINE_IDENTITY_PROOF_INVALID', `machine identity proof invalid: ${reason.replace(/_/g, ' ')}`, {
    reason,
    challengeId,
  });
}

export function identityChallengeStream(id: string) {
  return { streamId: `machine-identity-challenge-${id}`, entityType: 'machine-identity-challenge', entityId: id, machineId: null };
}
