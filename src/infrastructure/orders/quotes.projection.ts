import { MarketSearchEvent } from '../../domain/search/market-search.decider';
import { defineProjection } from '../projections/projection';

export const MARKET_QUOTES = 'market_quotes';

/**
 * Quote id → search id: an order may name a quote without its search (§7.5.2), and the quote itself is
 * read from the search's own stream.
 */
export const quotesProjection = defineProjection({
  name: MARKET_QUOTES,
  version: 1,
  handles: ['market_search.completed'],
  tables: [MARKET_QUOTES],
  setup(db) {
    db.run(`CREATE TABLE IF NOT EXISTS {market_quotes} (id TEXT PRIMARY KEY, search_id TEXT NOT NULL)`);
  },
  apply(stored, db) {
    const { data } = stored as unknown as MarketSearchEvent;
    for (const quote of data.quotes)
      db.run(`INSERT OR REPLACE INTO {market_quotes} (id, search_id) VALUES (?, ?)`, quote.id, data.searchId);
  },
});
