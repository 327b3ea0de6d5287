import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { marketOrderDecider, MarketOrderState, marketOrderStream } from '../../domain/order/market-order.decider';
import { MarketOrderRecord } from '../../domain/order/market-order-types';
import { SessionClaims } from '../../domain/pairing/session-auth';
import { notFound } from '../../domain/shared/domain-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineGates } from '../machines/machine-gates';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { InterruptedExecutions } from './interrupted-executions';
import { OrderAgentAccess } from './order-access';
import { orderPaymentSettings } from './order-payment-settings';
import { failPendingTaskOfCancelledOrder } from './pending-task';
import { loadRecords } from './payment-commands';

/** What an agent closes an order with (§7.5.11–§7.5.13). */
export type OrderClosing =
  | { type: 'confirm' }
  | { type: 'dispute'; reason: string; evidence?: Record<string, unknown> | null }
  | { type: 'cancel'; reason?: string | null };

/** `confirm`, `dispute`, `cancel`: existence gate, token binding (or the order's pairing active), then the decider. */
export class CloseOrder {
  constructor(
    readonly orderId: string,
    readonly closing: OrderClosing,
    readonly session: SessionClaims | null,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(CloseOrder)
export class CloseOrderHandler implements ICommandHandler<CloseOrder, MarketOrderRecord> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    private readonly access: OrderAgentAccess,
    private readonly interrupted: InterruptedExecutions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ orderId, closing, session, ctx }: CloseOrder): Promise<MarketOrderRecord> {
    const records = await loadRecords(this.streams, orderId);
    const { order } = records;
    this.gates.existence(order.machineId);
    await this.access.check(order, session);
    if (closing.type === 'cancel') await this.interrupted.endIfInterrupted(records, ctx);
    const { state, events, eventIds } = await this.streams.handle(
      marketOrderStream(orderId, order.machineId),
      marketOrderDecider,
      { ...closing, orderId },
      ctx,
      { context: { settings: orderPaymentSettings(this.config) } },
    );
    const closed = orderOf(state, orderId);
    if (closing.type === 'cancel' && events.length > 0) {
      await failPendingTaskOfCancelledOrder(this.streams, closed, { ...ctx, causationId: eventIds[0] });
    }
    return closed;
  }
}

function orderOf(state: MarketOrderState, orderId: string): MarketOrderRecord {
  if (state.kind !== 'live') throw notFound('market-order', orderId);
  return state.order;
}
