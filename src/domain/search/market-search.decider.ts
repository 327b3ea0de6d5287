import { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import { RankedService, SearchOutcome } from './market-search';

/** §6.4.2 `MarketQuote`. */
export type MarketQuote = RankedService & { id: string; searchId: string; machineId: string; createdAt: string; expiresAt: string };

/** §6.4.2 `MarketSearchResult`. */
export type MarketSearchResult = {
  searchId: string;
  machineId: string;
  agentPairingId: string;
  createdAt: string;
  expiresAt: string;
  quotes: MarketQuote[];
  excluded: SearchOutcome['excluded'];
};

/**
 * The one event of a search (§8.7.2): the result as the API returns it, plus the request as stored
 * (provider credential values already redacted, §9) for the audit trail.
 */
export type MarketSearchEvent = {
  type: 'market_search.completed';
  data: MarketSearchResult & { request: Record<string, unknown> };
};

export type MarketSearchState = { kind: 'none' } | { kind: 'completed'; result: MarketSearchResult };

export type CompleteMarketSearch = {
  type: 'complete';
  searchId: string;
  machineId: string;
  agentPairingId: string;
  outcome: SearchOutcome;
  /** One `quo_` id per ranked service, in rank order. */
  quoteIds: string[];
  expiresAt: string;
  /** The request with every `providerCredentials` value replaced by "[REDACTED]". */
  redactedRequest: Record<string, unknown>;
};

/** A search is written once; orders read its quotes (`findQuote`). */
export const marketSearchDecider: Decider<CompleteMarketSearch, MarketSearchState, MarketSearchEvent> = {
  initialState: () => ({ kind: 'none' }),

  evolve(state, event) {
    if (state.kind !== 'none') return state;
    const { request: _request, ...result } = event.data;
    return { kind: 'completed', result };
  },

  decide(command, state, { now }) {
    if (state.kind !== 'none') {
      throw new DomainError('STATE_CONFLICT', `market-search ${command.searchId} already exists`, {
        entityType: 'market-search',
        id: command.searchId,
        status: 'completed',
        reason: 'exists',
      });
    }
    if (command.quoteIds.length !== command.outcome.ranked.length) throw new Error('One quote id per ranked service is needed');
    const { searchId, machineId, expiresAt } = command;
    const quotes: MarketQuote[] = command.outcome.ranked.map((ranked, i) => ({
      id: command.quoteIds[i],
      ...ranked,
      searchId,
      machineId,
      createdAt: now,
      expiresAt,
    }));
    return [
      {
        type: 'market_search.completed',
        data: {
          searchId,
          machineId,
          agentPairingId: command.agentPairingId,
          createdAt: now,
          expiresAt,
          quotes,
          excluded: command.outcome.excluded,
          request: command.redactedRequest,
        },
      },
    ];
  },
};

/** The quote `quoteId` of the search, or undefined (orders answer 404 `market-quote`). */
export function findQuote(state: MarketSearchState, quoteId: string): MarketQuote | undefined {
  return state.kind === 'completed' ? state.result.quotes.find((q) => q.id === quoteId) : undefined;
}

export function marketSearchStream(id: string, machineId: string) {
  return { streamId: `market-search-${id}`, entityType: 'market-search', entityId: id, machineId };
}
