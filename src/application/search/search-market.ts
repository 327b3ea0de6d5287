import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { SessionClaims } from '../../domain/pairing/session-auth';
import { marketSearchDecider, MarketSearchResult, marketSearchStream } from '../../domain/search/market-search.decider';
import { SearchCriteria, searchServices } from '../../domain/search/market-search';
import { notFound } from '../../domain/shared/domain-error';
import { redactAllValues } from '../../domain/shared/redaction';
import { utcDay } from '../../domain/shared/time';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineGates } from '../machines/machine-gates';
import { ActingPairings } from '../pairings/acting-pairing';
import { CATALOG, Catalog } from '../ports/catalog.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { IDS, Ids } from '../ports/ids.port';
import { MACHINE_POLICY_EXCLUSIONS, MachinePolicyExclusions } from '../ports/machine-policy-exclusions.port';
import { PairingSpend } from '../orders/pairing-spend';
import { USABLE_RUNTIME_ENDPOINTS, UsableRuntimeEndpoints } from '../ports/runtime-endpoints.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

/** §6.1: per provider key, credential members; values are used in memory only (§9). */
export type ProviderCredentials = Record<string, Record<string, string | undefined>>;

export type SearchMarketRequest = SearchCriteria & {
  machineId: string;
  agentPairingId?: string;
  providerCredentials?: ProviderCredentials;
};

/** §6.4 `POST /market/search`. */
export class SearchMarket {
  constructor(
    readonly request: SearchMarketRequest,
    readonly session: SessionClaims | null,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(SearchMarket)
export class SearchMarketHandler implements ICommandHandler<SearchMarket, MarketSearchResult> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    private readonly actingPairings: ActingPairings,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(MACHINE_POLICY_EXCLUSIONS) private readonly machinePolicies: MachinePolicyExclusions,
    @Inject(USABLE_RUNTIME_ENDPOINTS) private readonly runtimeEndpoints: UsableRuntimeEndpoints,
    private readonly spend: PairingSpend,
    @Inject(IDS) private readonly ids: Ids,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ request, session, ctx }: SearchMarket): Promise<MarketSearchResult> {
    const { machineId, agentPairingId, providerCredentials, ...criteria } = request;
    // §6.4.3, in order: existence of what the body names, token binding and acting pairing, active gate.
    this.gates.existence(machineId);
    if (agentPairingId !== undefined) await this.actingPairings.assertExists(agentPairingId);
    if (criteria.skillKey !== undefined && !this.catalog.skill(criteria.skillKey)) throw notFound('skill', criteria.skillKey);
    const acting = await this.actingPairings.resolve({ machineId, agentPairingId, session });
    const machine = await this.gates.active(machineId);

    const now = this.clock.now();
    const day = utcDay(now.toISOString());
    const policy = acting.pairing.delegationPolicy;
    const spentToday = acting.spend.spentOn({
      day,
      currency: policy.currency,
      excludedOrderIds: await this.spend.excludedOrderIds(acting, day),
    });
    const outcome = searchServices(this.catalog.services(), criteria, {
      delegationPolicy: policy,
      spentToday,
      day,
      machinePolicyReasons: await this.machinePolicies.reasonsFor(machine.policyIds),
      usableRuntimeProviderKeys: await this.runtimeEndpoints.providerKeysOf(machineId),
      suppliedCredentialKeys: suppliedCredentialKeys(providerCredentials),
    });

    const searchId = this.ids.next('srch');
    const { state } = await this.streams.handle(
      marketSearchStream(searchId, machineId),
      marketSearchDecider,
      {
        type: 'complete',
        searchId,
        machineId,
        agentPairingId: acting.pairing.id,
        outcome,
        quoteIds: outcome.ranked.map(() => this.ids.next('quo')),
        expiresAt: new Date(now.getTime() + this.config.marketQuoteTtlMs).toISOString(),
        redactedRequest: redactedRequest(request),
      },
      ctx,
      { waitForReadModels: false },
    );
    if (state.kind !== 'completed') throw new Error(`Search ${searchId} stored no result`);
    return state.result;
  }
}

/** §6.4.4: providers whose credentials have at least one non-empty string value. */
function suppliedCredentialKeys(credentials: ProviderCredentials | undefined): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const [providerKey, members] of Object.entries(credentials ?? {})) {
    if (Object.values(members).some((value) => typeof value === 'string' && value !== '')) keys.add(providerKey);
  }
  return keys;
}

/** §9: provider keys and member names are kept, every credential value becomes "[REDACTED]". */
function redactedRequest(request: SearchMarketRequest): Record<string, unknown> {
  const { providerCredentials, ...rest } = request;
  return providerCredentials === undefined ? { ...rest } : { ...rest, providerCredentials: redactAllValues(providerCredentials) };
}
