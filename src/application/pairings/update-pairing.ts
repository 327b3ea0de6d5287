import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AgentPairing, agentPairingDecider, agentPairingStream } from '../../domain/pairing/agent-pairing.decider';
import { DelegationPolicyInput } from '../../domain/pairing/delegation-policy';
import { notFound } from '../../domain/shared/domain-error';
import { MachineGates } from '../machines/machine-gates';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { withPairingStore } from './pairing-unavailable';

export type UpdatePairingRequest = {
  delegationPolicy?: DelegationPolicyInput;
  /** `null` clears. */
  description?: string | null;
  agentRole?: string;
  status?: 'active' | 'paused';
};

/** §5.8.6 `PATCH /machines/:machineId/agent-pairings/:pairingId`. */
export class UpdatePairing {
  constructor(
    readonly machineId: string,
    readonly pairingId: string,
    readonly request: UpdatePairingRequest,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(UpdatePairing)
export class UpdatePairingHandler implements ICommandHandler<UpdatePairing, AgentPairing> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
  ) {}

  async execute({ machineId, pairingId, request, ctx }: UpdatePairing): Promise<AgentPairing> {
    this.gates.existence(machineId);
    return withPairingStore(async () => {
      const stream = agentPairingStream(pairingId, machineId);
      const { state } = await this.streams.load(stream.streamId, agentPairingDecider);
      if (state.kind === 'none' || state.pairing.machineId !== machineId) throw notFound('agent-pairing', pairingId);
      // Resuming a paused pairing needs the active gate; pausing and other changes only existence.
      if (request.status === 'active' && state.pairing.status === 'paused') await this.gates.active(machineId);
      const result = await this.streams.handle(stream, agentPairingDecider, { type: 'update', id: pairingId, machineId, ...request }, ctx);
      if (result.state.kind !== 'live') throw new Error(`Updating ${pairingId} left no pairing`);
      return result.state.pairing;
    });
  }
}
