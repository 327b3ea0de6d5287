import { Body, Controller, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { SearchMarket, SearchMarketRequest } from '../../application/search/search-market';
import { CommandContext } from '../../application/shared/command-context';
import { SessionClaims } from '../../domain/pairing/session-auth';
import { MarketSearchResult } from '../../domain/search/market-search.decider';
import { compareDecimals } from '../../domain/shared/decimal';
import { validationError } from '../../domain/shared/domain-error';
import { withoutNullsDeep } from '../shared/without-nulls';
import { AgentEndpoint } from '../auth/agent-pairing-token.guard';
import { AgentSession } from '../auth/agent-session.decorator';
import { RequestContext } from '../shared/request-context.decorator';
import { MarketSearchDto } from './search.dto';
import { normaliseProviderCredentials } from '../validation/provider-credentials';

@Controller('market')
export class SearchController {
  constructor(private readonly commands: CommandBus) {}

  /** §6.4: `201`, the search and its quotes are stored. */
  @Post('search')
  @AgentEndpoint()
  async search(
    @Body() dto: MarketSearchDto,
    @AgentSession() session: SessionClaims | null,
    @RequestContext() ctx: CommandContext,
  ): Promise<{ item: MarketSearchResult }> {
    const item = await this.commands.execute<SearchMarket, MarketSearchResult>(new SearchMarket(toRequest(dto), session, ctx));
    return { item };
  }
}

/** Rule-based validation beyond the DTO, and the §0.5/§0.6 normalisations (keys lower-case, currency upper-case). */
function toRequest(dto: MarketSearchDto): SearchMarketRequest {
  const { budget, preferences, providerCredentials, ...rest } = withoutNullsDeep(dto);
  if (budget?.amount !== undefined && budget.maxAmount !== undefined && compareDecimals(budget.amount, budget.maxAmount) > 0) {
    throw validationError(
      [{ location: 'body', path: '/budget/amount', message: 'budget.amount must not exceed budget.maxAmount' }],
      'budget_inconsistent',
    );
  }
  return {
    ...rest,
    ...(budget ? { budget: { ...budget, ...(budget.currency !== undefined ? { currency: budget.currency.toUpperCase() } : {}) } } : {}),
    ...(preferences
      ? {
          preferences: {
            ...preferences,
            ...(preferences.preferredProviderKeys
              ? { preferredProviderKeys: preferences.preferredProviderKeys.map((k) => k.toLowerCase()) }
              : {}),
          },
        }
      : {}),
    ...(providerCredentials ? { providerCredentials: normaliseProviderCredentials(providerCredentials) } : {}),
  };
}
