import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { agentPairingDecider, agentPairingStream, VerifiedAgentProof } from '../../domain/pairing/agent-pairing.decider';
import { PairingChallengeUse } from '../../domain/pairing/pairing-challenge.decider';
import { agentProofAction } from '../../domain/pairing/pairing-verification-mode';
import { notFound } from '../../domain/shared/domain-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineGates } from '../machines/machine-gates';
import { CLOCK, Clock } from '../ports/clock.port';
import { IDS, Ids } from '../ports/ids.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { AgentPairingProofInput, AgentPairingProofs } from './agent-pairing-proofs';
import { PairingWithToken } from './create-pairing';
import { PairingSessions } from './pairing-sessions';
import { withPairingStore } from './pairing-unavailable';

/** §5.8.5 `POST /machines/:machineId/agent-pairings/:pairingId/sessions`. */
export class RotatePairingSession {
  constructor(
    readonly machineId: string,
    readonly pairingId: string,
    readonly request: { agentProof?: AgentPairingProofInput },
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(RotatePairingSession)
export class RotatePairingSessionHandler implements ICommandHandler<RotatePairingSession, PairingWithToken> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    private readonly proofs: AgentPairingProofs,
    private readonly sessions: PairingSessions,
    @Inject(IDS) private readonly ids: Ids,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ machineId, pairingId, request, ctx }: RotatePairingSession): Promise<PairingWithToken> {
    // §5.8.5: the gate first, then the pairing's checks (more specific than the §0.14 order).
    await this.gates.active(machineId);
    return withPairingStore(async () => {
      const stream = agentPairingStream(pairingId, machineId);
      const { state } = await this.streams.load(stream.streamId, agentPairingDecider);
      if (state.kind === 'none' || state.pairing.machineId !== machineId) throw notFound('agent-pairing', pairingId);
      const { pairing } = state;
      // The pairing must be active before any proof is looked at: the decider refuses otherwise.
      const placeholder = { sessionId: '', jti: '', iat: 0, exp: 0, tokenLastFour: '', delegationPolicyHash: state.delegationPolicyHash };
      agentPairingDecider.decide({ type: 'rotate_session', id: pairingId, machineId, session: placeholder }, state, { now: this.now() });

      const expected: PairingChallengeUse = { use: 'rotate', machineId, agentAddress: pairing.agentAddress };
      let proof: VerifiedAgentProof | undefined;
      if (agentProofAction(this.config.agentPairingVerification, request.agentProof !== undefined) === 'verify') {
        proof = await this.proofs.verify(expected, request.agentProof!);
      }
      const { token, session } = await this.sessions.issue({
        machineId,
        pairingId,
        sessionId: this.ids.next('sess'),
        agentAddress: pairing.agentAddress,
        agentDid: pairing.agentDid,
        delegationPolicyHash: state.delegationPolicyHash,
      });
      if (proof) await this.proofs.consume(proof, expected, pairingId, ctx);
      const result = await this.streams.handle(
        stream,
        agentPairingDecider,
        { type: 'rotate_session', id: pairingId, machineId, session, verifiedProof: proof },
        ctx,
      );
      if (result.state.kind !== 'live') throw new Error(`Rotating ${pairingId} left no pairing`);
      return { pairing: result.state.pairing, pairingToken: token };
    });
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
