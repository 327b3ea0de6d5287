import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { MarketPaymentRailType, MarketServiceEndpoint } from '../../domain/catalog/catalog-types';
import { marketOrderDecider, marketOrderStream } from '../../domain/order/market-order.decider';
import { MarketOrderRecord, MarketPaymentChallenge, MarketPaymentRecord } from '../../domain/order/market-order-types';
import { PaymentHeaders } from '../../domain/order/payment-headers';
import { planPaymentIntent } from '../../domain/order/payment-intent';
import { SessionClaims } from '../../domain/pairing/session-auth';
import { DomainError } from '../../domain/shared/domain-error';
import { providerEndpoint } from '../../domain/task/route-resolution';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineGates } from '../machines/machine-gates';
import { CLOCK, Clock } from '../ports/clock.port';
import { IDS, Ids } from '../ports/ids.port';
import { PAYMENT_CHALLENGES, PaymentChallenges } from '../ports/payment-challenges.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { OrderAgentAccess } from './order-access';
import { orderPaymentSettings } from './order-payment-settings';
import { loadRecords } from './payment-commands';

export type PaymentIntentInput = {
  rail?: MarketPaymentRailType;
  payerAddress?: string;
  chainId?: number;
  tokenAddress?: string;
  tokenDecimals?: number;
  paymentHeaders?: PaymentHeaders;
};

/** `created`: whether the record was created (201) rather than returned or refreshed (200). */
export type PaymentIntentOutcome = { created: boolean; payment: MarketPaymentRecord };

/** §7.5.4 `POST /market/orders/:orderId/payment-intent`. */
export class CreatePaymentIntent {
  constructor(
    readonly orderId: string,
    readonly request: PaymentIntentInput,
    readonly refreshChallenge: boolean,
    readonly session: SessionClaims | null,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(CreatePaymentIntent)
export class CreatePaymentIntentHandler implements ICommandHandler<CreatePaymentIntent, PaymentIntentOutcome> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    private readonly access: OrderAgentAccess,
    @Inject(PAYMENT_CHALLENGES) private readonly challenges: PaymentChallenges,
    @Inject(IDS) private readonly ids: Ids,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ orderId, request, refreshChallenge, session, ctx }: CreatePaymentIntent): Promise<PaymentIntentOutcome> {
    // Step 1.
    const records = await loadRecords(this.streams, orderId);
    await this.access.check(records.order, session);
    await this.gates.active(records.order.machineId);
    // Steps 2–6.
    const settings = orderPaymentSettings(this.config);
    const { paymentHeaders, ...parameters } = request;
    const command = { orderId, paymentId: this.ids.next('pay'), refreshChallenge, ...parameters };
    const plan = planPaymentIntent(records, command, settings, this.clock.now().toISOString());
    if (plan.action === 'existing') return { created: false, payment: plan.payment };
    // Step 7: nothing is stored when the challenge cannot be obtained.
    const fetch = plan.action === 'refresh_challenge' || plan.fetchChallenge;
    const challenge = fetch ? await this.fetchChallenge(records.order, paymentHeaders, ctx.correlationId) : undefined;
    // Steps 8–9.
    const { state } = await this.streams.handle(
      marketOrderStream(orderId, records.order.machineId),
      marketOrderDecider,
      { type: 'create_payment_intent', ...command, challenge },
      ctx,
      { context: { settings } },
    );
    if (state.kind !== 'live' || state.payment === null) throw new Error(`market-order ${orderId} has no payment after its intent`);
    // Of two concurrent first calls, the one whose record was written answers 201, the other 200.
    return { created: plan.action === 'create' && state.payment.id === command.paymentId, payment: state.payment };
  }

  private async fetchChallenge(
    order: MarketOrderRecord,
    headers: PaymentHeaders | undefined,
    correlationId: string,
  ): Promise<MarketPaymentChallenge> {
    // §8.5.2 provider candidate, from the service as it was when the order was created.
    const endpoints = (order.serviceSnapshot.endpoints ?? []) as MarketServiceEndpoint[];
    const endpoint = providerEndpoint(endpoints, order.operation);
    if (!endpoint) {
      throw new DomainError('ROUTE_REQUIRED', `Service ${order.serviceId} has no provider endpoint to ask for a payment challenge`, {
        providerKey: order.providerKey,
        reason: 'no_provider_endpoint',
      });
    }
    const result = await this.challenges.fetch({
      endpoint,
      input: order.input,
      correlationId,
      authorization: headers?.authorization,
      signInWithX: headers?.signInWithX,
    });
    if (result.ok) return result.challenge;
    throw new DomainError('PROVIDER_UNAVAILABLE', `Provider ${order.providerKey} did not answer with a payment challenge`, {
      providerKey: order.providerKey,
      reason: result.reason,
      ...(result.reason === 'unexpected_status' ? { providerStatus: result.providerStatus } : {}),
    });
  }
}
