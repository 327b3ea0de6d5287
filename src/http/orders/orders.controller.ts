import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { CloseOrder, OrderClosing } from '../../application/orders/close-order';
import { CreateOrder, CreateOrderRequest } from '../../application/orders/create-order';
import { CreatePaymentIntent, PaymentIntentOutcome } from '../../application/orders/create-payment-intent';
import { ExecuteOrder, ExecuteOrderOutcome, ExecuteOrderRequest, ExecuteOrderResult } from '../../application/orders/execute-order';
import { GetOrder, GetPayment, ListOrders } from '../../application/orders/order-queries';
import { LockEscrow, RecordPaymentProof, SettlePayment } from '../../application/orders/payment-commands';
import { orderSortKey, OrderSortKey } from '../../application/ports/orders-read-model.port';
import { CommandContext } from '../../application/shared/command-context';
import { MarketOrderRecord, MarketPaymentRecord } from '../../domain/order/market-order-types';
import { SessionClaims } from '../../domain/pairing/session-auth';
import { AgentEndpoint } from '../auth/agent-pairing-token.guard';
import { AgentSession } from '../auth/agent-session.decorator';
import { decodeStringCursor, encodeCursor, ListResponse, parseLimit, toPage } from '../pagination/cursor';
import { RequestContext } from '../shared/request-context.decorator';
import { HttpResult } from '../shared/http-result';
import { withoutNulls, withoutNullsDeep } from '../shared/without-nulls';
import {
  CancelOrderDto,
  CreateOrderDto,
  DisputeOrderDto,
  EscrowLockDto,
  ExecuteOrderDto,
  ListOrdersQuery,
  OrderIdParam,
  PaymentIntentDto,
  PaymentIntentQuery,
  PaymentProofDto,
  RefundPaymentDto,
} from './orders.dto';
import { normaliseProviderCredentials } from '../validation/provider-credentials';

const ORDERS_LIST_ENDPOINT = 'GET /market/orders';

type Item<T> = { item: T };

@Controller('market/orders')
export class OrdersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** §7.5.1 */
  @Get()
  async list(@Query() query: ListOrdersQuery): Promise<ListResponse<MarketOrderRecord>> {
    const limit = parseLimit(query.limit);
    const filter = { machineId: query.machineId, status: query.status, agentPairingId: query.agentPairingId };
    const after = query.cursor === undefined ? null : (decodeStringCursor(query.cursor, ORDERS_LIST_ENDPOINT, filter, 2) as OrderSortKey);
    const rows = await this.queries.execute<ListOrders, MarketOrderRecord[]>(new ListOrders(filter, after, limit));
    return toPage(
      rows,
      limit,
      (order) => encodeCursor(ORDERS_LIST_ENDPOINT, filter, orderSortKey(order)),
      (order) => order,
    );
  }

  /** §7.5.2 */
  @Post()
  @AgentEndpoint()
  async create(
    @Body() dto: CreateOrderDto,
    @AgentSession() session: SessionClaims | null,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<MarketOrderRecord>> {
    // Top-level nulls are absent (§0.3); `input` keeps its nulls (the operation contract judges them).
    const { budget, ...rest } = withoutNulls(dto);
    const request: CreateOrderRequest = {
      ...rest,
      machineId: dto.machineId,
      ...(budget ? { budget: { amount: budget.amount ?? null, currency: budget.currency ?? null } } : {}),
    };
    const item = await this.commands.execute<CreateOrder, MarketOrderRecord>(new CreateOrder(request, session, ctx));
    return { item };
  }

  /** §7.5.3 */
  @Get(':orderId')
  async get(@Param() { orderId }: OrderIdParam): Promise<Item<MarketOrderRecord>> {
    return { item: await this.queries.execute<GetOrder, MarketOrderRecord>(new GetOrder(orderId)) };
  }

  /** §7.5.10: `200` delivered, `202` handoff (also when the recorded result is returned again). */
  @Post(':orderId/execute')
  @AgentEndpoint()
  async execute(
    @Param() { orderId }: OrderIdParam,
    @Body() dto: ExecuteOrderDto,
    @AgentSession() session: SessionClaims | null,
    @RequestContext() ctx: CommandContext,
  ): Promise<HttpResult<Item<ExecuteOrderResult>>> {
    const { input, providerCredentials, paymentHeaders } = dto;
    const request: ExecuteOrderRequest = {
      ...(input !== undefined && input !== null ? { input } : {}),
      // Provider keys are lower-cased before use (§6.1); absent members are dropped.
      ...(providerCredentials ? { providerCredentials: normaliseProviderCredentials(providerCredentials) } : {}),
      ...(paymentHeaders ? { paymentHeaders: withoutNulls(paymentHeaders) } : {}),
    };
    const outcome = await this.commands.execute<ExecuteOrder, ExecuteOrderOutcome>(new ExecuteOrder(orderId, request, session, ctx));
    return new HttpResult(outcome.status, { item: outcome.result });
  }

  /** §7.5.11 */
  @Post(':orderId/confirm')
  @HttpCode(200)
  @AgentEndpoint()
  confirm(@Param() { orderId }: OrderIdParam, @AgentSession() session: SessionClaims | null, @RequestContext() ctx: CommandContext) {
    return this.close(orderId, { type: 'confirm' }, session, ctx);
  }

  /** §7.5.12 */
  @Post(':orderId/dispute')
  @HttpCode(200)
  @AgentEndpoint()
  dispute(
    @Param() { orderId }: OrderIdParam,
    @Body() dto: DisputeOrderDto,
    @AgentSession() session: SessionClaims | null,
    @RequestContext() ctx: CommandContext,
  ) {
    return this.close(orderId, { type: 'dispute', reason: dto.reason, evidence: dto.evidence ?? null }, session, ctx);
  }

  /** §7.5.13 */
  @Post(':orderId/cancel')
  @HttpCode(200)
  @AgentEndpoint()
  cancel(
    @Param() { orderId }: OrderIdParam,
    @Body() dto: CancelOrderDto,
    @AgentSession() session: SessionClaims | null,
    @RequestContext() ctx: CommandContext,
  ) {
    return this.close(orderId, { type: 'cancel', reason: dto.reason ?? null }, session, ctx);
  }

  /** §7.5.4: `201` when the record was created, `200` when an existing one was returned or refreshed. */
  @Post(':orderId/payment-intent')
  @AgentEndpoint()
  async paymentIntent(
    @Param() { orderId }: OrderIdParam,
    @Query() query: PaymentIntentQuery,
    @Body() dto: PaymentIntentDto,
    @AgentSession() session: SessionClaims | null,
    @RequestContext() ctx: CommandContext,
  ): Promise<HttpResult<Item<MarketPaymentRecord>>> {
    const outcome = await this.commands.execute<CreatePaymentIntent, PaymentIntentOutcome>(
      new CreatePaymentIntent(orderId, withoutNullsDeep(dto), query.refreshChallenge === 'true', session, ctx),
    );
    return new HttpResult(outcome.created ? 201 : 200, { item: outcome.payment });
  }

  /** §7.5.5 */
  @Post(':orderId/payment-proof')
  @HttpCode(200)
  @AgentEndpoint()
  async paymentProof(
    @Param() { orderId }: OrderIdParam,
    @Body() dto: PaymentProofDto,
    @AgentSession() session: SessionClaims | null,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<MarketPaymentRecord>> {
    const item = await this.commands.execute<RecordPaymentProof, MarketPaymentRecord>(
      new RecordPaymentProof(orderId, withoutNullsDeep(dto), session, ctx),
    );
    return { item };
  }

  /** §7.5.6 */
  @Get(':orderId/payment')
  async payment(@Param() { orderId }: OrderIdParam): Promise<Item<MarketPaymentRecord>> {
    return { item: await this.queries.execute<GetPayment, MarketPaymentRecord>(new GetPayment(orderId)) };
  }

  /** §7.5.7 */
  @Post(':orderId/payment/escrow-lock')
  @HttpCode(200)
  @AgentEndpoint()
  async escrowLock(
    @Param() { orderId }: OrderIdParam,
    @Body() dto: EscrowLockDto,
    @AgentSession() session: SessionClaims | null,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<MarketPaymentRecord>> {
    return {
      item: await this.commands.execute<LockEscrow, MarketPaymentRecord>(new LockEscrow(orderId, withoutNullsDeep(dto), session, ctx)),
    };
  }

  /** §7.5.8: operator action (API key only). */
  @Post(':orderId/payment/release')
  @HttpCode(200)
  async release(@Param() { orderId }: OrderIdParam, @RequestContext() ctx: CommandContext): Promise<Item<MarketPaymentRecord>> {
    return {
      item: await this.commands.execute<SettlePayment, MarketPaymentRecord>(new SettlePayment(orderId, { type: 'release_payment' }, ctx)),
    };
  }

  /** §7.5.9: operator action (API key only). */
  @Post(':orderId/payment/refund')
  @HttpCode(200)
  async refund(
    @Param() { orderId }: OrderIdParam,
    @Body() dto: RefundPaymentDto,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<MarketPaymentRecord>> {
    return {
      item: await this.commands.execute<SettlePayment, MarketPaymentRecord>(
        new SettlePayment(orderId, { type: 'refund_payment', reason: dto.reason ?? null }, ctx),
      ),
    };
  }

  private async close(
    orderId: string,
    closing: OrderClosing,
    session: SessionClaims | null,
    ctx: CommandContext,
  ): Promise<Item<MarketOrderRecord>> {
    return { item: await this.commands.execute<CloseOrder, MarketOrderRecord>(new CloseOrder(orderId, closing, session, ctx)) };
  }
}
