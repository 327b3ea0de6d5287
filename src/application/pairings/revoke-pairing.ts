import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AgentPairing, agentPairingDecider, agentPairingStream } from '../../domain/pairing/agent-pairing.decider';
import { notFound } from '../../domain/shared/domain-error';
import { MachineGates } from '../machines/machine-gates';
import { OPEN_MARKET_ORDERS, OpenMarketOrders } from '../ports/open-market-orders.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { withPairingStore } from './pairing-unavailable';

/** §5.8.7 `POST /machines/:machineId/agent-pairings/:pairingId/revoke`. */
export class RevokePairing {
  constructor(
    readonly machineId: string,
    readonly pairingId: string,
    readonly force: boolean,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(RevokePairing)
export class RevokePairingHandler implements ICommandHandler<RevokePairing, AgentPairing> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    @Inject(OPEN_MARKET_ORDERS) private readonly openOrders: OpenMarketOrders,
  ) {}

  async execute({ machineId, pairingId, force, ctx }: RevokePairing): Promise<AgentPairing> {
    this.gates.existence(machineId);
    return withPairingStore(async () => {
      const stream = agentPairingStream(pairingId, machineId);
      const { state } = await this.streams.load(stream.streamId, agentPairingDecider);
      if (state.kind === 'none' || state.pairing.machineId !== machineId) throw notFound('agent-pairing', pairingId);
      // Idempotent: a revoked pairing is returned unchanged without looking at orders.
      if (state.pairing.status === 'revoked') return state.pairing;
      // Forced revocation cancels the pairing's non-executing open orders; that cancellation belongs
      // to the orders feature and joins here with it (until then a pairing has no orders).
      const openOrders = await this.openOrders.openOrdersOfPairing(pairingId);
      const result = await this.streams.handle(
        stream,
        agentPairingDecider,
        { type: 'revoke', id: pairingId, machineId, force, openOrders },
        ctx,
      );
      if (result.state.kind !== 'live') throw new Error(`Revoking ${pairingId} left no pairing`);
      return result.state.pairing;
    });
  }
}
