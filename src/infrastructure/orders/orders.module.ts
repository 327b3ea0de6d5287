import { Module } from '@nestjs/common';
import { CloseOrderHandler } from '../../application/orders/close-order';
import { CreateOrderHandler } from '../../application/orders/create-order';
import { ExecuteOrderHandler } from '../../application/orders/execute-order';
import { InterruptedExecutions } from '../../application/orders/interrupted-executions';
import { OrderAgentAccess } from '../../application/orders/order-access';
import { PairingSpend } from '../../application/orders/pairing-spend';
import { CreatePaymentIntentHandler } from '../../application/orders/create-payment-intent';
import { GetOrderHandler, GetPaymentHandler, ListOrdersHandler } from '../../application/orders/order-queries';
import { PaymentClaims } from '../../application/orders/payment-claims';
import { LockEscrowHandler, RecordPaymentProofHandler, SettlePaymentHandler } from '../../application/orders/payment-commands';
import { CLOCK, Clock } from '../../application/ports/clock.port';
import { PAYMENT_CHALLENGES } from '../../application/ports/payment-challenges.port';
import { PAYMENT_VERIFIER } from '../../application/ports/payment-verifier.port';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ViemPaymentVerifier } from '../payments/payment-verifier.viem';
import { HttpPaymentChallenges } from '../providers/payment-challenges.http';
import { ORDERS_READ_MODEL, QUOTE_INDEX } from '../../application/ports/orders-read-model.port';
import { OrdersController } from '../../http/orders/orders.controller';
import { MachinesModule } from '../machines/machines.module';
import { PairingsModule } from '../pairings/pairings.module';
import { PoliciesModule } from '../policies/policies.module';
import { SqliteOrdersReadModel } from './orders.read-model';
import { SqliteQuoteIndex } from './quote-index';

export { ordersProjection } from './orders.projection';
export { quotesProjection } from './quotes.projection';

/**
 * Market orders (§7): creation with spend limits serialised on the pairing stream, reads, payments,
 * execution through the provider adapters (PROVIDER_ADAPTERS) and the agent's closing operations.
 * The `market_orders` read model also answers OPEN_MARKET_ORDERS.
 */
@Module({
  imports: [MachinesModule, PairingsModule, PoliciesModule],
  controllers: [OrdersController],
  providers: [
    { provide: ORDERS_READ_MODEL, useClass: SqliteOrdersReadModel },
    { provide: QUOTE_INDEX, useClass: SqliteQuoteIndex },
    OrderAgentAccess,
    PairingSpend,
    InterruptedExecutions,
    CreateOrderHandler,
    ListOrdersHandler,
    GetOrderHandler,
    CloseOrderHandler,
    GetPaymentHandler,
    PaymentClaims,
    CreatePaymentIntentHandler,
    RecordPaymentProofHandler,
    LockEscrowHandler,
    SettlePaymentHandler,
    ExecuteOrderHandler,
    { provide: PAYMENT_VERIFIER, useFactory: () => new ViemPaymentVerifier() },
    {
      provide: PAYMENT_CHALLENGES,
      inject: [APP_CONFIG, CLOCK],
      useFactory: (config: AppConfig, clock: Clock) => new HttpPaymentChallenges({ timeoutMs: config.executeTimeoutMs }, clock),
    },
  ],
  exports: [ORDERS_READ_MODEL, PairingSpend],
})
export class OrdersModule {}
