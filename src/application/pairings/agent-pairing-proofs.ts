import { Inject, Injectable } from '@nestjs/common';
import { VerifiedAgentProof } from '../../domain/pairing/agent-pairing.decider';
import { agentPairingNonce } from '../../domain/pairing/pairing-challenge-nonce';
import {
  assertAgentSigner,
  PairingChallengeUse,
  pairingChallengeDecider,
  pairingChallengeStream,
  proofInvalid,
  verifyPairingChallengeForProof,
} from '../../domain/pairing/pairing-challenge.decider';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CLOCK, Clock } from '../ports/clock.port';
import { SIGNATURE_VERIFIER, SignatureVerifier } from '../ports/signature-verifier.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

export type AgentPairingProofInput = { challengeId: string; signature: string };

/**
 * §5.4.3 agent proof verification and the consumption of the challenge. Unlike a machine identity
 * challenge (whose machine stream serialises its uses), nothing but the challenge stream can keep a
 * pairing challenge single-use across two concurrent creations, so the consumption is appended
 * (with the expected revision) before the pairing is written: of two requests presenting the same
 * challenge exactly one gets past it.
 */
@Injectable()
export class AgentPairingProofs {
  constructor(
    private readonly streams: AggregateStreams,
    @Inject(SIGNATURE_VERIFIER) private readonly signatures: SignatureVerifier,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Steps 1–7; writes nothing. */
  async verify(expected: PairingChallengeUse, input: AgentPairingProofInput): Promise<VerifiedAgentProof> {
    const { state } = await this.streams.load(pairingChallengeStream(input.challengeId, null).streamId, pairingChallengeDecider);
    const challenge = verifyPairingChallengeForProof(state, {
      challengeId: input.challengeId,
      expected,
      now: this.clock.now().toISOString(),
      recomputeNonce: (c) => agentPairingNonce(this.config.sessionSecret, c),
    });
    const recovered = await this.signatures.recoverPersonalSignSigner(challenge.message, input.signature);
    if (!recovered.ok) throw proofInvalid('malformed_signature', challenge.challengeId);
    assertAgentSigner(challenge.challengeId, recovered.address, expected.agentAddress);
    return {
      challengeId: challenge.challengeId,
      signerAddress: recovered.address,
      challengeExpiresAt: challenge.expiresAt,
      signature: input.signature,
    };
  }

  /** Steps 1–4 again at append time; a concurrent use makes this one `challenge_used`. */
  async consume(proof: VerifiedAgentProof, expected: PairingChallengeUse, pairingId: string, ctx: CommandContext): Promise<void> {
    await this.streams.handle(
      pairingChallengeStream(proof.challengeId, expected.machineId),
      pairingChallengeDecider,
      { type: 'consume', challengeId: proof.challengeId, expected, pairingId },
      ctx,
      { waitForReadModels: false },
    );
  }
}
