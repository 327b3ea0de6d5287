import { DomainError } from '../shared/domain-error';

/** `PEAQOS_AGENT_PAIRING_VERIFICATION` (§5.3). */
export type PairingVerificationMode = 'required' | 'optional' | 'disabled';

/**
 * §5.3 for `agentProof` on create and on session rotation: `verify` it (§5.4.3), or go on `without`
 * one. `required` without a proof → `400 AGENT_PAIRING_PROOF_REQUIRED`; `disabled` ignores a proof
 * that was sent.
 */
export function agentProofAction(mode: PairingVerificationMode, proofPresent: boolean): 'verify' | 'without' {
  if (mode === 'disabled') return 'without';
  if (proofPresent) return 'verify';
  if (mode === 'required')
    throw new DomainError('AGENT_PAIRING_PROOF_REQUIRED', 'An agentProof is required (PEAQOS_AGENT_PAIRING_VERIFICATION=required)');
  return 'without';
}
