import { deciderSpec } from '../../../test/support/decider-spec';
import { fold } from '../shared/decider';
import { RankedService, SearchOutcome } from './market-search';
import {
  CompleteMarketSearch,
  findQuote,
  MarketSearchEvent,
  MarketSearchResult,
  marketSearchDecider,
  marketSearchStream,
} from './market-search.decider';

const SRCH = 'srch_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const MACH = 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2D';
const PAIR = 'pair_01JD8Y6K3W5T2Q9R7M4N0P1B2E';
const QUO_1 = 'quo_01JD8Y6K3W5T2Q9R7M4N0P1B2F';
const QUO_2 = 'quo_01JD8Y6K3W5T2Q9R7M4N0P1B2G';
const NOW = '2026-01-01T00:00:00.000Z';
/** createdAt + PEAQOS_MARKET_QUOTE_TTL_MS (default 300000). */
const EXPIRES_AT = '2026-01-01T00:05:00.000Z';

function ranked(serviceId: string, rank: number, overrides: Partial<RankedService> = {}): RankedService {
  return {
    serviceId,
    skillKey: 'skill.price',
    providerKey: 'prov-a',
    executionMode: 'native',
    integrationStatus: 'native',
    operation: 'get-price',
    score: 30,
    reasons: ['native execution (+15)', 'integration ready (+15)'],
    pricing: { mode: 'fixed', amount: 0.5, currency: 'USDT', rate: null, notes: [] },
    payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], amount: '0.5', currency: 'USDT' },
    serviceType: 'oracle.price-feed',
    rank,
    region: 'eu-west',
    handoff: null,
    ...overrides,
  };
}

const OUTCOME: SearchOutcome = {
  ranked: [ranked('svc-b', 1, { score: 40 }), ranked('svc-a', 2)],
  excluded: [{ serviceId: 'svc-c', reasons: ['integration status docs-only cannot be ordered'] }],
};

const REQUEST = { machineId: MACH, providerCredentials: { 'prov-a': { apiKey: '[REDACTED]' } } };

const complete = (overrides: Partial<CompleteMarketSearch> = {}): CompleteMarketSearch => ({
  type: 'complete',
  searchId: SRCH,
  machineId: MACH,
  agentPairingId: PAIR,
  outcome: OUTCOME,
  quoteIds: [QUO_1, QUO_2],
  expiresAt: EXPIRES_AT,
  redactedRequest: REQUEST,
  ...overrides,
});

const RESULT: MarketSearchResult = {
  searchId: SRCH,
  machineId: MACH,
  agentPairingId: PAIR,
  createdAt: NOW,
  expiresAt: EXPIRES_AT,
  quotes: [
    { id: QUO_1, ...ranked('svc-b', 1, { score: 40 }), searchId: SRCH, machineId: MACH, createdAt: NOW, expiresAt: EXPIRES_AT },
    { id: QUO_2, ...ranked('svc-a', 2), searchId: SRCH, machineId: MACH, createdAt: NOW, expiresAt: EXPIRES_AT },
  ],
  excluded: [{ serviceId: 'svc-c', reasons: ['integration status docs-only cannot be ordered'] }],
};

const completed: MarketSearchEvent = { type: 'market_search.completed', data: { ...RESULT, request: REQUEST } };

const spec = deciderSpec(marketSearchDecider, { now: NOW });

describe('marketSearchDecider — complete', () => {
  it('decides one market_search.completed whose data is the result plus the stored request', () =>
    spec.given([]).when(complete()).then([completed]));

  it('gives every quote its id, the search id, the machine, createdAt = now and the search’s expiresAt', () => {
    const [event] = marketSearchDecider.decide(complete(), marketSearchDecider.initialState(), { now: NOW });
    expect(event.data.quotes.map((q) => [q.id, q.serviceId, q.rank, q.searchId, q.machineId, q.createdAt, q.expiresAt])).toEqual([
      [QUO_1, 'svc-b', 1, SRCH, MACH, NOW, EXPIRES_AT],
      [QUO_2, 'svc-a', 2, SRCH, MACH, NOW, EXPIRES_AT],
    ]);
    expect(event.data.createdAt).toBe(NOW);
    expect(event.data.expiresAt).toBe(EXPIRES_AT);
    expect(event.data.agentPairingId).toBe(PAIR);
  });

  it('takes createdAt from the decision time', () =>
    spec
      .given([])
      .when(complete(), { now: '2026-02-03T04:05:06.789Z' })
      .thenState(
        (s) =>
          s.kind === 'completed' &&
          s.result.createdAt === '2026-02-03T04:05:06.789Z' &&
          s.result.quotes.every((q) => q.createdAt === '2026-02-03T04:05:06.789Z'),
      ));

  it('no quotes is a valid result', () =>
    spec
      .given([])
      .when(complete({ outcome: { ranked: [], excluded: [] }, quoteIds: [] }))
      .then([{ type: 'market_search.completed', data: { ...RESULT, quotes: [], excluded: [], request: REQUEST } }]));

  it('keeps the exclusions as given', () =>
    spec
      .given([])
      .when(complete())
      .thenState((s) => s.kind === 'completed' && JSON.stringify(s.result.excluded) === JSON.stringify(OUTCOME.excluded)));

  it('the completed state holds the result without the request', () =>
    spec.given([]).when(complete()).thenState({ kind: 'completed', result: RESULT }));

  it('refuses to complete a search twice (STATE_CONFLICT)', () =>
    spec.given([completed]).when(complete()).thenThrows('STATE_CONFLICT', { entityType: 'market-search', id: SRCH }));
});

describe('findQuote', () => {
  const state = fold(marketSearchDecider, [completed]);

  it('finds a quote of the search by id', () => {
    expect(findQuote(state, QUO_2)).toEqual(RESULT.quotes[1]);
    expect(findQuote(state, QUO_1)?.serviceId).toBe('svc-b');
  });

  it('is undefined for an unknown id or a search that does not exist', () => {
    expect(findQuote(state, 'quo_01JD8Y6K3W5T2Q9R7M4N0P1B2Z')).toBeUndefined();
    expect(findQuote(marketSearchDecider.initialState(), QUO_1)).toBeUndefined();
  });
});

describe('marketSearchStream (§8.7.2)', () => {
  it('is market-search-{srch} with entityType market-search', () => {
    expect(marketSearchStream(SRCH, MACH)).toEqual({
      streamId: `market-search-${SRCH}`,
      entityType: 'market-search',
      entityId: SRCH,
      machineId: MACH,
    });
  });
});
