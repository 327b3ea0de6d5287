import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AgentPairing, agentPairingDecider, agentPairingStream, VerifiedAgentProof } from '../../domain/pairing/agent-pairing.decider';
import { DelegationPolicyInput, delegationPolicyHash, normaliseDelegationPolicy } from '../../domain/pairing/delegation-policy';
import { PairingChallengeUse } from '../../domain/pairing/pairing-challenge.decider';
import { agentProofAction } from '../../domain/pairing/pairing-verification-mode';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineGates } from '../machines/machine-gates';
import { IDS, Ids } from '../ports/ids.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { AgentIdentityInput, normaliseAgentIdentity } from './agent-identity';
import { AgentPairingProofInput, AgentPairingProofs } from './agent-pairing-proofs';
import { PairingSessions } from './pairing-sessions';
import { withPairingStore } from './pairing-unavailable';

export type CreatePairingRequest = AgentIdentityInput & {
  description?: string | null;
  delegationPolicy?: DelegationPolicyInput;
  agentProof?: AgentPairingProofInput;
};

/** The pairing as stored, and the one-time token of its first session. */
export type PairingWithToken = { pairing: AgentPairing; pairingToken: string };

/** §5.8.4 `POST /machines/:machineId/agent-pairings`. */
export class CreatePairing {
  constructor(
    readonly machineId: string,
    readonly request: CreatePairingRequest,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(CreatePairing)
export class CreatePairingHandler implements ICommandHandler<CreatePairing, PairingWithToken> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    private readonly proofs: AgentPairingProofs,
    private readonly sessions: PairingSessions,
    @Inject(IDS) private readonly ids: Ids,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ machineId, request, ctx }: CreatePairing): Promise<PairingWithToken> {
    const agent = normaliseAgentIdentity(request);
    const delegationPolicy = normaliseDelegationPolicy(request.delegationPolicy);
    await this.gates.active(machineId);

    return withPairingStore(async () => {
      const expected: PairingChallengeUse = { use: 'create', machineId, ...agent };
      let proof: VerifiedAgentProof | undefined;
      if (agentProofAction(this.config.agentPairingVerification, request.agentProof !== undefined) === 'verify') {
        proof = await this.proofs.verify(expected, request.agentProof!);
      }
      const pairingId = this.ids.next('pair');
      const { token, session } = await this.sessions.issue({
        machineId,
        pairingId,
        sessionId: this.ids.next('sess'),
        agentAddress: agent.agentAddress,
        agentDid: agent.agentDid,
        delegationPolicyHash: delegationPolicyHash(delegationPolicy),
      });
      // The challenge is the only thing two concurrent creations share: consuming it first keeps it
      // single-use (AgentPairingProofs).
      if (proof) await this.proofs.consume(proof, expected, pairingId, ctx);
      const { state } = await this.streams.handle(
        agentPairingStream(pairingId, machineId),
        agentPairingDecider,
        {
          type: 'create',
          id: pairingId,
          machineId,
          ...agent,
          description: request.description,
          delegationPolicy: request.delegationPolicy,
          verifiedProof: proof,
          session,
        },
        ctx,
      );
      if (state.kind !== 'live') throw new Error(`Creating ${pairingId} stored no pairing`);
      return { pairing: state.pairing, pairingToken: token };
    });
  }
}
