import { Injectable } from '@nestjs/common';
import { QuoteIndex } from '../../application/ports/orders-read-model.port';
import { ProjectionEngine } from '../projections/projection-engine';
import { MARKET_QUOTES } from './quotes.projection';

@Injectable()
export class SqliteQuoteIndex implements QuoteIndex {
  constructor(private readonly projections: ProjectionEngine) {}

  searchOf(quoteId: string): string | undefined {
    return this.projections.reader(MARKET_QUOTES).get<{ search_id: string }>(`SELECT search_id FROM {market_quotes} WHERE id = ?`, quoteId)
      ?.search_id;
  }
}
