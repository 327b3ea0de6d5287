import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { machineIdentityNonce } from '../../domain/identity-challenge/challenge-nonce';
import {
  identityChallengeDecider,
  identityChallengeStream,
  IdentityChallengeState,
  MachineIdentityChallenge,
} from '../../domain/identity-challenge/identity-challenge.decider';
import { requireIdentityRef } from '../../domain/machine/identity-ref';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CLOCK, Clock } from '../ports/clock.port';
import { IDS, Ids } from '../ports/ids.port';
import { MCR_RESOLVER, McrResolver } from '../ports/mcr-resolver.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { mcrFailureOnRead } from './mcr-failure-errors';

/** §4.6.1: issue a short-lived challenge for a machine identity. */
export class IssueMachineIdentityChallenge {
  constructor(
    /** As received; normalised by the handler (§4.2). */
    readonly identityRef: string,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(IssueMachineIdentityChallenge)
export class IssueMachineIdentityChallengeHandler implements ICommandHandler<IssueMachineIdentityChallenge, MachineIdentityChallenge> {
  constructor(
    private readonly streams: AggregateStreams,
    @Inject(MCR_RESOLVER) private readonly mcr: McrResolver,
    @Inject(IDS) private readonly ids: Ids,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ identityRef: raw, ctx }: IssueMachineIdentityChallenge): Promise<MachineIdentityChallenge> {
    const identityRef = requireIdentityRef(raw);

    // §4.3: issuance always resolves fresh; bond status is not checked (drafts may precede bonding).
    const resolved = await this.mcr.resolve(identityRef, { fresh: true });
    if (!resolved.ok) throw mcrFailureOnRead(resolved.failure);

    const challengeId = this.ids.next('chl');
    const issued = this.clock.now();
    const issuedAt = issued.toISOString();
    const expiresAt = new Date(issued.getTime() + this.config.machineIdentityChallengeTtlMs).toISOString();
    const nonce = machineIdentityNonce(this.config.sessionSecret, { challengeId, identityRef, issuedAt, expiresAt });

    const { state } = await this.streams.handle(
      identityChallengeStream(challengeId),
      identityChallengeDecider,
      { type: 'issue', challengeId, identityRef, nonce, issuedAt, expiresAt, controllerAddresses: resolved.value.controllerAddresses },
      ctx,
    );
    return challengeOf(state);
  }
}

function challengeOf(state: IdentityChallengeState): MachineIdentityChallenge {
  if (state.kind === 'none') throw new Error('Issuing a machine identity challenge appended no challenge');
  return state.challenge;
}
