import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { MarketOrderRecord, MarketOrderStatus, MarketPaymentRecord } from '../../domain/order/market-order-types';
import { notFound } from '../../domain/shared/domain-error';
import { MachineGates } from '../machines/machine-gates';
import { ORDERS_READ_MODEL, OrdersReadModel, OrderSortKey } from '../ports/orders-read-model.port';

/** §7.5.1: up to `limit + 1` orders after `after` (the extra one tells that a next page exists). */
export class ListOrders {
  constructor(
    readonly filter: { machineId: string; status?: MarketOrderStatus; agentPairingId?: string },
    readonly after: OrderSortKey | null,
    readonly limit: number,
  ) {}
}

@QueryHandler(ListOrders)
export class ListOrdersHandler implements IQueryHandler<ListOrders, MarketOrderRecord[]> {
  constructor(
    @Inject(ORDERS_READ_MODEL) private readonly orders: OrdersReadModel,
    private readonly gates: MachineGates,
  ) {}

  async execute({ filter, after, limit }: ListOrders): Promise<MarketOrderRecord[]> {
    await this.gates.active(filter.machineId);
    return this.orders.page(filter, after, limit + 1);
  }
}

/** §7.5.3: the active gate on the order's machine. */
export class GetOrder {
  constructor(readonly orderId: string) {}
}

@QueryHandler(GetOrder)
export class GetOrderHandler implements IQueryHandler<GetOrder, MarketOrderRecord> {
  constructor(
    @Inject(ORDERS_READ_MODEL) private readonly orders: OrdersReadModel,
    private readonly gates: MachineGates,
  ) {}

  async execute({ orderId }: GetOrder): Promise<MarketOrderRecord> {
    const found = this.orders.byId(orderId);
    if (!found) throw notFound('market-order', orderId);
    await this.gates.active(found.order.machineId);
    return found.order;
  }
}

/** §7.5.6: the active gate; `404 market-payment` when the order has no payment record. */
export class GetPayment {
  constructor(readonly orderId: string) {}
}

@QueryHandler(GetPayment)
export class GetPaymentHandler implements IQueryHandler<GetPayment, MarketPaymentRecord> {
  constructor(
    @Inject(ORDERS_READ_MODEL) private readonly orders: OrdersReadModel,
    private readonly gates: MachineGates,
  ) {}

  async execute({ orderId }: GetPayment): Promise<MarketPaymentRecord> {
    const found = this.orders.byId(orderId);
    if (!found) throw notFound('market-order', orderId);
    await this.gates.active(found.order.machineId);
    if (!found.payment) throw notFound('market-payment', orderId);
    return found.payment;
  }
}
