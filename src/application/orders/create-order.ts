import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { MarketServiceDetail } from '../../domain/catalog/catalog-types';
import { marketOrderDecider, marketOrderStream } from '../../domain/order/market-order.decider';
import { MarketOrderRecord } from '../../domain/order/market-order-types';
import { CreateMarketOrder, resolveOrderCreation } from '../../domain/order/order-creation';
import { agentPairingDecider, agentPairingStream } from '../../domain/pairing/agent-pairing.decider';
import { SessionClaims } from '../../domain/pairing/session-auth';
import { firstMachinePolicyDenial } from '../../domain/policy/machine-policy';
import { findQuote, marketSearchDecider, marketSearchStream } from '../../domain/search/market-search.decider';
import { MarketQuote, MarketSearchState } from '../../domain/search/market-search.decider';
import { notFound, validationError } from '../../domain/shared/domain-error';
import { utcDay } from '../../domain/shared/time';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineGates } from '../machines/machine-gates';
import { ActingPairings } from '../pairings/acting-pairing';
import { withPairingStore } from '../pairings/pairing-unavailable';
import { CATALOG, Catalog } from '../ports/catalog.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { IDS, Ids } from '../ports/ids.port';
import { QUOTE_INDEX, QuoteIndex } from '../ports/orders-read-model.port';
import { POLICIES_READ_MODEL, PoliciesReadModel } from '../ports/policies-read-model.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { orderPaymentSettings } from './order-payment-settings';
import { PairingSpend } from './pairing-spend';

export type CreateOrderRequest = {
  machineId: string;
  agentPairingId?: string;
  serviceId?: string;
  searchId?: string;
  quoteId?: string;
  operation?: string;
  input?: Record<string, unknown>;
  budget?: { amount?: number | null; currency?: string | null };
};

/** §7.5.2 `POST /market/orders`. */
export class CreateOrder {
  constructor(
    readonly request: CreateOrderRequest,
    readonly session: SessionClaims | null,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(CreateOrder)
export class CreateOrderHandler implements ICommandHandler<CreateOrder, MarketOrderRecord> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    private readonly actingPairings: ActingPairings,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(QUOTE_INDEX) private readonly quotes: QuoteIndex,
    @Inject(POLICIES_READ_MODEL) private readonly policies: PoliciesReadModel,
    @Inject(IDS) private readonly ids: Ids,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly spend: PairingSpend,
  ) {}

  async execute({ request, session, ctx }: CreateOrder): Promise<MarketOrderRecord> {
    // Step 1 (rules beyond the DTO).
    this.validate(request);
    // Step 2: existence of everything the body names.
    this.gates.existence(request.machineId);
    const namedPairing = request.agentPairingId !== undefined ? await this.actingPairings.assertExists(request.agentPairingId) : undefined;
    const quote = await this.quoteOf(request);
    const serviceId = request.serviceId ?? quote!.serviceId;
    const service = this.catalog.service(serviceId);
    if (!service) throw notFound('service', serviceId);
    // Steps 3–4.
    const acting = await this.actingPairings.resolve({
      machineId: request.machineId,
      agentPairingId: request.agentPairingId,
      session,
      named: namedPairing,
    });
    const machine = await this.gates.active(request.machineId);

    // Steps 5–8 (pure); the decider runs them again when it writes the order.
    const orderId = this.ids.next('ord');
    const command: CreateMarketOrder = {
      type: 'create',
      id: orderId,
      machineId: request.machineId,
      agentPairingId: acting.pairing.id,
      serviceId: request.serviceId,
      searchId: request.searchId,
      operation: request.operation,
      input: request.input,
      budget: request.budget,
      quote,
      service: service as MarketServiceDetail,
    };
    const { amount } = resolveOrderCreation(command, this.now());

    // Step 9 (§7.3): delegation lists, machine policies, currency and limits, serialised on the pairing
    // stream (expected revision), so concurrent orders can never jointly exceed the daily limit.
    const machinePolicyDenial = firstMachinePolicyDenial(
      this.policies.byIds(machine.policyIds),
      { providerKey: service.providerKey, serviceType: service.serviceType, executionMode: service.executionMode },
      amount,
    );
    return this.spend.creatingOrder(orderId, async () => {
      const excludedOrderIds = await this.spend.excludedOrderIds(acting, utcDay(this.now()));
      await withPairingStore(() =>
        this.streams.handle(
          agentPairingStream(acting.pairing.id, request.machineId),
          agentPairingDecider,
          {
            type: 'register_order',
            id: acting.pairing.id,
            machineId: request.machineId,
            orderId,
            amount: amount.amount,
            currency: amount.currency,
            subject: { skillKey: service.skillKey, serviceId: service.id },
            machinePolicyDenial: machinePolicyDenial ?? undefined,
            excludedOrderIds,
          },
          ctx,
          { waitForReadModels: false },
        ),
      );
      // Step 10. Were this append to fail after the registration, the order would count against the day's
      // spend without existing until UNWRITTEN_ORDER_GRACE_MS has passed (PairingSpend).
      const { state } = await this.streams.handle(marketOrderStream(orderId, request.machineId), marketOrderDecider, command, ctx, {
        context: { settings: orderPaymentSettings(this.config) },
      });
      if (state.kind !== 'live') throw new Error(`Creating ${orderId} stored no order`);
      return state.order;
    });
  }

  /** §7.5.2 step 1 reasons. */
  private validate(request: CreateOrderRequest): void {
    if (this.config.requireMarketQuotes && (request.searchId === undefined || request.quoteId === undefined)) {
      throw validationError(
        [
          {
            location: 'body',
            path: request.searchId === undefined ? '/searchId' : '/quoteId',
            message: 'searchId and quoteId are required',
          },
        ],
        'quote_required',
      );
    }
    if (request.searchId !== undefined && request.quoteId === undefined) {
      throw validationError([{ location: 'body', path: '/quoteId', message: 'quoteId is required with searchId' }], 'quote_id_required');
    }
    if (request.serviceId === undefined && request.quoteId === undefined) {
      throw validationError([{ location: 'body', path: '/serviceId', message: 'serviceId or quoteId is required' }], 'service_required');
    }
  }

  /**
   * Step 2 for `searchId` and `quoteId`: the search must exist, the quote must exist (in its search).
   * The search stream is loaded once when the quote belongs to the named search.
   */
  private async quoteOf(request: CreateOrderRequest): Promise<MarketQuote | null> {
    let named: MarketSearchState | undefined;
    if (request.searchId !== undefined) {
      named = await this.loadSearch(request.searchId, request.machineId);
      if (named.kind === 'none') throw notFound('market-search', request.searchId);
    }
    if (request.quoteId === undefined) return null;
    const searchId = this.quotes.searchOf(request.quoteId);
    if (searchId === undefined) throw notFound('market-quote', request.quoteId);
    const state = named !== undefined && searchId === request.searchId ? named : await this.loadSearch(searchId, request.machineId);
    const quote = findQuote(state, request.quoteId);
    if (!quote) throw notFound('market-quote', request.quoteId);
    return quote;
  }

  private async loadSearch(searchId: string, machineId: string): Promise<MarketSearchState> {
    const { state } = await this.streams.load(marketSearchStream(searchId, machineId).streamId, marketSearchDecider);
    return state;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
