import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AgentPairing, agentPairingDecider, agentPairingStream } from '../../domain/pairing/agent-pairing.decider';
import { marketOrderDecider, marketOrderStream } from '../../domain/order/market-order.decider';
import { DomainError, notFound } from '../../domain/shared/domain-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { orderPaymentSettings } from '../orders/order-payment-settings';
import { failPendingTaskOfCancelledOrder } from '../orders/pending-task';
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
  private readonly logger = new Logger(RevokePairingHandler.name);

  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    @Inject(OPEN_MARKET_ORDERS) private readonly openOrders: OpenMarketOrders,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ machineId, pairingId, force, ctx }: RevokePairing): Promise<AgentPairing> {
    this.gates.existence(machineId);
    return withPairingStore(async () => {
      const stream = agentPairingStream(pairingId, machineId);
      const { state } = await this.streams.load(stream.streamId, agentPairingDecider);
      if (state.kind === 'none' || state.pairing.machineId !== machineId) throw notFound('agent-pairing', pairingId);
      // Idempotent: a revoked pairing is returned unchanged without looking at orders.
      if (state.pairing.status === 'revoked') return state.pairing;
      // One read: what blocks the revocation is what a forced one cancels.
      const openOrders = await this.openOrders.openOrdersOfPairing(pairingId);
      const result = await this.streams.handle(
        stream,
        agentPairingDecider,
        { type: 'revoke', id: pairingId, machineId, force, openOrders },
        ctx,
      );
      if (result.state.kind !== 'live') throw new Error(`Revoking ${pairingId} left no pairing`);
      // §5.8.7 force: the open orders are cancelled with cancelReason "pairing_revoked", after the
      // revocation: from then on no execution of them can start (their pairing's tokens fail).
      if (force && result.eventIds.length > 0) {
        await this.cancelOpenOrders(openOrders.orderIds, pairingId, machineId, { ...ctx, causationId: result.eventIds[0] });
      }
      return result.state.pairing;
    });
  }

  /**
   * Cancels each order that is still cancellable. The revocation is committed by now, so no order may
   * stop the others: one that closed or started executing since it was read decides nothing (it is no
   * longer cancellable), and one the order streams do not know is passed over.
   */
  private async cancelOpenOrders(orderIds: readonly string[], pairingId: string, machineId: string, ctx: CommandContext): Promise<void> {
    for (const orderId of orderIds) {
      const cancelled = await this.cancelForRevocation(orderId, machineId, ctx);
      if (cancelled === undefined || cancelled.state.kind !== 'live') continue;
      const { order } = cancelled.state;
      if (cancelled.eventIds.length === 0) {
        this.logger.warn(`Order ${orderId} of revoked pairing ${pairingId} is ${order.status}, no longer cancellable: not cancelled`);
        continue;
      }
      await failPendingTaskOfCancelledOrder(this.streams, order, { ...ctx, causationId: cancelled.eventIds[0] });
    }
  }

  private async cancelForRevocation(orderId: string, machineId: string, ctx: CommandContext) {
    try {
      return await this.streams.handle(
        marketOrderStream(orderId, machineId),
        marketOrderDecider,
        { type: 'cancel_for_pairing_revocation', orderId },
        ctx,
        { context: { settings: orderPaymentSettings(this.config) } },
      );
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'NOT_FOUND')) throw error;
      this.logger.warn(`Order ${orderId}, listed as open, has no stream: not cancelled`);
      return undefined;
    }
  }
}
