import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { agentPairingNonce } from '../../domain/pairing/pairing-challenge-nonce';
import { AgentPairingChallenge, pairingChallengeDecider, pairingChallengeStream } from '../../domain/pairing/pairing-challenge.decider';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineGates } from '../machines/machine-gates';
import { CLOCK, Clock } from '../ports/clock.port';
import { IDS, Ids } from '../ports/ids.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { AgentIdentityInput, normaliseAgentIdentity } from './agent-identity';
import { withPairingStore } from './pairing-unavailable';

/** §5.8.3 `POST /machines/:machineId/agent-pairings/challenges`. */
export class IssuePairingChallenge {
  constructor(
    readonly machineId: string,
    readonly request: AgentIdentityInput,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(IssuePairingChallenge)
export class IssuePairingChallengeHandler implements ICommandHandler<IssuePairingChallenge, AgentPairingChallenge> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    @Inject(IDS) private readonly ids: Ids,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ machineId, request, ctx }: IssuePairingChallenge): Promise<AgentPairingChallenge> {
    const agent = normaliseAgentIdentity(request);
    const machine = await this.gates.active(machineId);

    const challengeId = this.ids.next('chl');
    const issued = this.clock.now();
    const issuedAt = issued.toISOString();
    const expiresAt = new Date(issued.getTime() + this.config.agentPairingChallengeTtlMs).toISOString();
    const nonce = agentPairingNonce(this.config.sessionSecret, {
      challengeId,
      machineId,
      agentAddress: agent.agentAddress,
      issuedAt,
      expiresAt,
    });
    const { state } = await withPairingStore(() =>
      this.streams.handle(
        pairingChallengeStream(challengeId, machineId),
        pairingChallengeDecider,
        { type: 'issue', challengeId, machineId, identityRef: machine.identityRef, ...agent, nonce, issuedAt, expiresAt },
        ctx,
        { waitForReadModels: false },
      ),
    );
    if (state.kind === 'none') throw new Error('Issuing a pairing challenge appended no challenge');
    return state.challenge;
  }
}
