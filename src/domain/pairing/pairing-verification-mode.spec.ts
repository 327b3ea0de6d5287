import { refusal } from '../../../test/support/refusal';
import { agentProofAction } from './pairing-verification-mode';

describe('§5.3 agentProof per verification mode (create and rotation)', () => {
  it('required: verifies a proof', () => expect(agentProofAction('required', true)).toBe('verify'));

  it('required: refuses a missing proof with 400 AGENT_PAIRING_PROOF_REQUIRED and no details', () =>
    expect(refusal(() => agentProofAction('required', false))).toEqual({ code: 'AGENT_PAIRING_PROOF_REQUIRED', details: undefined }));

  it('optional: verifies a proof when present, goes on without one otherwise', () => {
    expect(agentProofAction('optional', true)).toBe('verify');
    expect(agentProofAction('optional', false)).toBe('without');
  });

  it('disabled: ignores a proof that was sent', () => {
    expect(agentProofAction('disabled', true)).toBe('without');
    expect(agentProofAction('disabled', false)).toBe('without');
  });
});
