import { Inject, Injectable, Logger } from '@nestjs/common';
import { machineIdentityNonce } from '../../domain/identity-challenge/challenge-nonce';
import {
  identityChallengeDecider,
  identityChallengeStream,
  proofInvalid,
  verifyChallengeForProof,
} from '../../domain/identity-challenge/identity-challenge.decider';
import { VerifiedIdentityProof } from '../../domain/machine/machine.decider';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CLOCK, Clock } from '../ports/clock.port';
import { MCR_RESOLVER, McrResolution, McrResolver } from '../ports/mcr-resolver.port';
import { SIGNATURE_VERIFIER, SignatureVerifier } from '../ports/signature-verifier.port';
import { mcrFailureOnWrite } from '../identity/mcr-failure-errors';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

export type MachineIdentityProofInput = { challengeId: string; signature: string };

/** A proof that passed §4.5.3, with the fresh MCR resolution it was checked against. */
export type ProofVerification = { verified: VerifiedIdentityProof; resolution: McrResolution };

/**
 * §4.5.3 proof verification, in the spec's order, and the consumption of the challenge once the write
 * that used it has succeeded.
 */
@Injectable()
export class MachineIdentityProofs {
  private readonly logger = new Logger(MachineIdentityProofs.name);

  constructor(
    private readonly streams: AggregateStreams,
    @Inject(MCR_RESOLVER) private readonly mcr: McrResolver,
    @Inject(SIGNATURE_VERIFIER) private readonly signatures: SignatureVerifier,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `identityRef` is the normalised target identity. Throws the spec's DomainErrors; writes nothing. */
  async verify(identityRef: string, input: MachineIdentityProofInput): Promise<ProofVerification> {
    // Steps 1–5 on the stored challenge.
    const { state } = await this.streams.load(identityChallengeStream(input.challengeId).streamId, identityChallengeDecider);
    const challenge = verifyChallengeForProof(state, {
      challengeId: input.challengeId,
      identityRef,
      now: this.clock.now().toISOString(),
      recomputeNonce: (c) => machineIdentityNonce(this.config.sessionSecret, c),
    });
    // Step 6.
    const recovered = await this.signatures.recoverPersonalSignSigner(challenge.message, input.signature);
    if (!recovered.ok) throw proofInvalid('malformed_signature', challenge.challengeId);
    // Step 7: writes always resolve fresh (§4.3).
    const resolved = await this.mcr.resolve(identityRef, { fresh: true });
    if (!resolved.ok) throw mcrFailureOnWrite(resolved.failure);
    const resolution = resolved.value;
    // Step 8.
    const signer = recovered.address.toLowerCase();
    if (!resolution.controllerAddresses.some((address) => address.toLowerCase() === signer)) {
      throw proofInvalid('signer_not_controller', challenge.challengeId);
    }
    return {
      resolution,
      verified: {
        signature: input.signature,
        proof: {
          method: 'eip191',
          identityRef,
          signerAddress: recovered.address,
          challengeId: challenge.challengeId,
          verifiedAt: this.clock.now().toISOString(),
          challengeExpiresAt: challenge.expiresAt,
          controllerAddresses: [...resolution.controllerAddresses],
          resolutionSource: 'peaqos-mcr',
        },
      },
    };
  }

  /**
   * Records that the successful write for `machineId` used the challenge. Called after the machine's
   * events are stored: the machine stream (which remembers the challenges its proofs used) is the
   * commit point, so a failed write leaves the challenge unused, as §4.5.3 requires.
   */
  async consume(verified: VerifiedIdentityProof, machineId: string, ctx: CommandContext): Promise<void> {
    const { challengeId, identityRef } = verified.proof;
    try {
      await this.streams.handle(
        identityChallengeStream(challengeId),
        identityChallengeDecider,
        { type: 'consume', challengeId, identityRef, machineId },
        ctx,
        { waitForReadModels: false },
      );
    } catch (error) {
      // The write already succeeded; the machine stream still refuses a second use of the challenge.
      this.logger.warn(`Could not record the consumption of ${challengeId} by ${machineId}: ${(error as Error).message}`);
    }
  }
}
