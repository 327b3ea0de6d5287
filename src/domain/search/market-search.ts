import {
  CatalogService,
  ExecutionMode,
  ExternalHandoff,
  IntegrationStatus,
  knownPrice,
  MarketPaymentRailRecommendation,
  MarketServicePricing,
  ServiceType,
} from '../catalog/catalog-types';
import { DelegationPolicy, delegationLimitViolations, delegationListViolations, LimitViolation } from '../pairing/delegation-policy';
import { compareDecimals, toDecimal } from '../shared/decimal';

/** §6.4.1 `MarketSearchRequest` after validation (keys lower-cased, currencies upper-cased). */
export type SearchCriteria = {
  serviceType?: ServiceType;
  skillKey?: string;
  operation?: string;
  requirements?: { capabilities?: string[] };
  region?: string;
  budget?: { amount?: number; maxAmount?: number; currency?: string };
  preferences?: { nativeOnly?: boolean; allowExternalHandoff?: boolean; preferredProviderKeys?: string[] };
  maxResults?: number;
};

/** What the search knows besides the catalogue, looked up by the handler (§6.4.4 notation). */
export type SearchContext = {
  /** The acting pairing's delegation policy (X4, X7). */
  delegationPolicy: DelegationPolicy;
  /** The pairing's spend of `day` (§5.7), a decimal string. */
  spentToday: string;
  day: string;
  /** X5: the machine policies' exclusion reasons for a service, in `policyIds` order. */
  machinePolicyReasons(service: CatalogService): string[];
  /** Provider keys with a usable runtime endpoint on the machine (§8.2). */
  usableRuntimeProviderKeys: ReadonlySet<string>;
  /** Provider keys whose `providerCredentials` entry has at least one non-empty string value. */
  suppliedCredentialKeys: ReadonlySet<string>;
};

/** A ranked service, before it gets its quote id (§6.4.2 `MarketQuote` without ids and times). */
export type RankedService = {
  serviceId: string;
  skillKey: string;
  providerKey: string;
  executionMode: ExecutionMode;
  integrationStatus: IntegrationStatus;
  operation: string;
  score: number;
  reasons: string[];
  pricing: MarketServicePricing;
  payment: MarketPaymentRailRecommendation;
  serviceType: ServiceType;
  rank: number;
  region: string;
  handoff: ExternalHandoff | null;
};

export type SearchOutcome = { ranked: RankedService[]; excluded: Array<{ serviceId: string; reasons: string[] }> };

export const DEFAULT_MAX_RESULTS = 10;

/**
 * §6.4.4 steps 1–5, deterministic. `services` must be sorted by id ascending (the catalogue's order):
 * exclusions then come out sorted by `serviceId` without a sort. One pass over the catalogue, and the
 * ranking keeps only the best `maxResults` (a bounded insertion), so the cost grows linearly with the
 * number of services.
 */
export function searchServices(services: readonly CatalogService[], criteria: SearchCriteria, context: SearchContext): SearchOutcome {
  const maxResults = criteria.maxResults ?? DEFAULT_MAX_RESULTS;
  const prepared = prepare(criteria, context);
  const excluded: SearchOutcome['excluded'] = [];
  const best: Candidate[] = [];
  for (const service of services) {
    if (!inScope(service, criteria)) continue;
    const reasons = exclusionReasons(service, criteria, context, prepared);
    if (reasons !== null) {
      excluded.push({ serviceId: service.id, reasons });
      continue;
    }
    // Only the points decide the ranking; the reasons are written for the quoted services alone.
    insertBounded(best, { service, score: score(service, criteria, context, null), price: priceOf(service) }, maxResults);
  }
  return {
    excluded,
    ranked: best.map((c, i) => {
      const reasons: string[] = [];
      score(c.service, criteria, context, reasons);
      return rankedService(c, reasons, criteria, i + 1);
    }),
  };
}

/** What every service of one search is checked against, computed once per search. */
type Prepared = {
  /** Whether the delegation lists can deny anything at all (X4). */
  listsRestrict: boolean;
  /** Whether a delegation limit is set (X7). */
  limitsSet: boolean;
  maxAmount: string | null;
  budgetCurrency: string | undefined;
};

function prepare(criteria: SearchCriteria, context: SearchContext): Prepared {
  const policy = context.delegationPolicy;
  return {
    listsRestrict:
      policy.allowedSkillKeys.length + policy.deniedSkillKeys.length + policy.allowedServiceIds.length + policy.deniedServiceIds.length > 0,
    limitsSet: policy.perTransactionLimit !== null || policy.dailySpendLimit !== null,
    maxAmount: criteria.budget?.maxAmount !== undefined ? toDecimal(criteria.budget.maxAmount) : null,
    budgetCurrency: criteria.budget?.currency,
  };
}

type Candidate = { service: CatalogService; score: number; price: string | null };

/** Step 1. */
function inScope(service: CatalogService, criteria: SearchCriteria): boolean {
  if (criteria.serviceType !== undefined && service.serviceType !== criteria.serviceType) return false;
  if (criteria.skillKey !== undefined && service.skillKey !== criteria.skillKey) return false;
  if (criteria.operation !== undefined && !service.operations.includes(criteria.operation)) return false;
  return true;
}

/** Step 2, X1–X7 in order: the reasons, or `null` when the service is not excluded. */
function exclusionReasons(service: CatalogService, criteria: SearchCriteria, context: SearchContext, prepared: Prepared): string[] | null {
  let reasons: string[] | null = null;
  const add = (reason: string) => (reasons ??= []).push(reason);
  const preferences = criteria.preferences;
  // X1
  if (service.integrationStatus === 'docs-only') add('integration status docs-only cannot be ordered');
  // X2
  if (service.executionMode === 'external-handoff' && (preferences?.nativeOnly === true || preferences?.allowExternalHandoff === false)) {
    add('external handoff excluded by preferences');
  }
  // X3
  const required = criteria.requirements?.capabilities;
  if (required !== undefined && required.length > 0) {
    const missing = required.filter((c) => !service.capabilities.includes(c));
    if (missing.length > 0) add(`missing required capabilities: ${missing.join(', ')}`);
  }
  // X4
  if (prepared.listsRestrict) {
    for (const reason of delegationListViolations(context.delegationPolicy, { skillKey: service.skillKey, serviceId: service.id })) {
      add(DELEGATION_LIST_REASONS[reason](service));
    }
  }
  // X5
  for (const reason of context.machinePolicyReasons(service)) add(reason);
  const price = priceOf(service);
  if (price !== null) {
    const currency = service.pricing.currency;
    // X6
    if (prepared.maxAmount !== null && compatible(currency, prepared.budgetCurrency) && compareDecimals(price, prepared.maxAmount) > 0) {
      add(`price ${formatPrice(price, currency)} exceeds budget maxAmount ${prepared.maxAmount}`);
    }
    // X7
    if (prepared.limitsSet) {
      const violations = delegationLimitViolations(context.delegationPolicy, {
        amount: price,
        currency,
        spentToday: context.spentToday,
        day: context.day,
      });
      for (const violation of violations) add(limitReason(violation, price, currency));
    }
  }
  return reasons;
}

const DELEGATION_LIST_REASONS: Record<string, (service: CatalogService) => string> = {
  skill_denied: (s) => `delegation policy: skill '${s.skillKey}' is denied`,
  skill_not_allowed: (s) => `delegation policy: skill '${s.skillKey}' is not in allowedSkillKeys`,
  service_denied: (s) => `delegation policy: service '${s.id}' is denied`,
  service_not_allowed: (s) => `delegation policy: service '${s.id}' is not in allowedServiceIds`,
};

function limitReason(violation: LimitViolation, price: string, currency: string | null): string {
  switch (violation.kind) {
    case 'currency_mismatch':
      return `delegation policy: currency ${violation.currency} differs from policy currency ${violation.policyCurrency}`;
    case 'per_transaction':
      return `delegation policy: price ${formatPrice(price, currency)} exceeds perTransactionLimit ${violation.limit}`;
    case 'daily':
      return `delegation policy: price ${formatPrice(price, currency)} would exceed dailySpendLimit ${violation.limit} (spent today ${violation.spentToday})`;
  }
}

/** Step 3: the points; with `reasons`, the reason of every applying row too, in table order. */
function score(service: CatalogService, criteria: SearchCriteria, context: SearchContext, reasons: string[] | null): number {
  let points = 0;
  // No closures or strings unless the reasons are wanted: this runs for every eligible service.
  const add = (n: number, reason: string | null) => {
    points += n;
    if (reason !== null) reasons!.push(reason);
  };
  const why = reasons !== null;
  if (criteria.operation !== undefined) add(20, !why ? null : `operation '${criteria.operation}' supported (+20)`);
  const required = criteria.requirements?.capabilities ?? [];
  if (required.length > 0) add(15, !why ? null : `all ${required.length} required capabilities present (+15)`);
  if (criteria.region !== undefined) {
    const region = criteria.region.toLowerCase();
    if (service.region === region) add(15, !why ? null : `region '${region}' matches (+15)`);
    else if (service.region === 'global') add(10, !why ? null : 'global service (+10)');
    else add(0, !why ? null : `region '${service.region}' does not match '${region}' (+0)`);
  }
  if (service.executionMode === 'native') add(15, !why ? null : 'native execution (+15)');
  else add(5, !why ? null : 'external handoff (+5)');
  switch (service.integrationStatus) {
    case 'native':
      add(15, !why ? null : 'integration ready (+15)');
      break;
    case 'credentials-required':
      if (context.suppliedCredentialKeys.has(service.providerKey)) add(10, !why ? null : 'provider credentials supplied (+10)');
      else add(0, !why ? null : 'provider credentials required but not supplied (+0)');
      break;
    case 'local-config-required':
      if (context.usableRuntimeProviderKeys.has(service.providerKey)) add(10, !why ? null : 'runtime endpoint registered (+10)');
      else add(0, !why ? null : 'runtime endpoint required but not registered (+0)');
      break;
    case 'setup-required':
      add(5, !why ? null : 'adapter setup required (+5)');
      break;
    case 'partner-required':
      add(0, !why ? null : 'partner approval required (+0)');
      break;
    case 'docs-only':
      break; // excluded by X1 before scoring
  }
  const budget = criteria.budget;
  if (budget && (budget.amount !== undefined || budget.maxAmount !== undefined)) {
    const price = priceOf(service);
    const currency = service.pricing.currency;
    if (price === null) add(3, !why ? null : 'price set by provider (+3)');
    else if (!compatible(currency, budget.currency))
      add(0, !why ? null : `price currency ${currency} differs from budget currency ${budget.currency} (+0)`);
    else if (budget.amount !== undefined && compareDecimals(price, budget.amount) <= 0) {
      add(10, !why ? null : `price ${formatPrice(price, currency)} within budget (+10)`);
    } else if (budget.maxAmount !== undefined && compareDecimals(price, budget.maxAmount) <= 0) {
      add(5, !why ? null : `price ${formatPrice(price, currency)} within maxAmount (+5)`);
    } else add(0, !why ? null : `price ${formatPrice(price, currency)} above budget (+0)`);
  }
  if (criteria.preferences?.preferredProviderKeys?.includes(service.providerKey)) {
    add(10, !why ? null : `preferred provider '${service.providerKey}' (+10)`);
  }
  return points;
}

/** Step 4: score descending, known price ascending (unknown last), id ascending (UTF-16 order). */
function before(a: Candidate, b: Candidate): boolean {
  if (a.score !== b.score) return a.score > b.score;
  if (a.price !== null && b.price !== null) {
    const byPrice = compareDecimals(a.price, b.price);
    if (byPrice !== 0) return byPrice < 0;
  } else if (a.price !== b.price) {
    return a.price !== null;
  }
  return a.service.id < b.service.id;
}

/** Keeps `best` sorted and at most `limit` long (step 5 quotes only the first `maxResults`). */
function insertBounded(best: Candidate[], candidate: Candidate, limit: number): void {
  if (best.length === limit && !before(candidate, best[best.length - 1])) return;
  let i = best.length;
  while (i > 0 && before(candidate, best[i - 1])) i--;
  best.splice(i, 0, candidate);
  if (best.length > limit) best.pop();
}

function rankedService(
  { service, score: points, price }: Candidate,
  reasons: string[],
  criteria: SearchCriteria,
  rank: number,
): RankedService {
  return {
    serviceId: service.id,
    skillKey: service.skillKey,
    providerKey: service.providerKey,
    executionMode: service.executionMode,
    integrationStatus: service.integrationStatus,
    operation: criteria.operation ?? service.operations[0],
    score: points,
    reasons,
    pricing: { ...service.pricing, notes: [...service.pricing.notes] },
    payment: quotePayment(service, price),
    serviceType: service.serviceType,
    rank,
    region: service.region,
    handoff: service.handoff,
  };
}

/** §6.4.2: with a known price, the recommendation carries it as a decimal string and its currency. */
function quotePayment(service: CatalogService, price: string | null): MarketPaymentRailRecommendation {
  const payment = { ...service.payment, supportedRails: [...service.payment.supportedRails] };
  if (price === null) return payment;
  payment.amount = price;
  const currency = service.pricing.currency ?? service.payment.currency;
  if (currency !== undefined) payment.currency = currency;
  return payment;
}

/** Known prices as decimal strings, computed once per catalogued service (the catalogue is immutable). */
const PRICES = new WeakMap<CatalogService, string | null>();

function priceOf(service: CatalogService): string | null {
  let price = PRICES.get(service);
  if (price === undefined) {
    const known = knownPrice(service);
    price = known === null ? null : toDecimal(known);
    PRICES.set(service, price);
  }
  return price;
}

/** §6.4.4: either currency null, or equal (codes are upper-case). */
function compatible(a: string | null | undefined, b: string | null | undefined): boolean {
  return a === null || a === undefined || b === null || b === undefined || a.toUpperCase() === b.toUpperCase();
}

/** `{price}`: the decimal string, then a space and the currency when it is not null. */
export function formatPrice(price: string, currency: string | null): string {
  return currency === null ? price : `${price} ${currency}`;
}
