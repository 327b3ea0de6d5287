import { knownPrice, MarketServicePricing } from '../catalog/catalog-types';
import { toDecimal } from '../shared/decimal';

/** §7.5.2 `budget` as requested (already shape-validated: finite, `>= 0`). */
export type OrderBudgetInput = { amount?: number | null; currency?: string | null } | null | undefined;

/** Which §7.3 source the effective amount came from (`null`: the amount is unknown). */
export type EffectiveAmountSource = 'quote' | 'service' | 'budget' | null;

export type EffectiveAmount = {
  /** Normalised decimal string (§0.6), or `null` when unknown. */
  amount: string | null;
  /** Upper-case currency code (§0.6), or `null` when unknown. */
  currency: string | null;
  source: EffectiveAmountSource;
};

export type EffectiveAmountSources = {
  /** The quote's pricing, when the order references a quote. */
  quote?: { pricing: MarketServicePricing } | null;
  /** The service's pricing. */
  service: { pricing: MarketServicePricing };
  budget?: OrderBudgetInput;
};

/**
 * §7.3: the effective amount and currency of an order, from the first applicable source — the quote's
 * known price, the service's known price, `budget.amount` — else unknown. A source without a currency
 * falls back to `budget.currency`. When no source applies the amount is unknown and the currency is
 * still `budget.currency` (the budget is the last source; §5.7's currency check uses it). Exact: the
 * JSON numbers become decimal strings (§0.6), never floats.
 */
export function effectiveAmount({ quote, service, budget }: EffectiveAmountSources): EffectiveAmount {
  const budgetCurrency = normaliseCurrency(budget?.currency);
  const quotePrice = quote ? knownPrice(quote) : null;
  if (quote && quotePrice !== null) return priced(quotePrice, quote.pricing.currency, budgetCurrency, 'quote');
  const servicePrice = knownPrice(service);
  if (servicePrice !== null) return priced(servicePrice, service.pricing.currency, budgetCurrency, 'service');
  const budgetAmount = budget?.amount;
  if (budgetAmount !== undefined && budgetAmount !== null) return priced(budgetAmount, null, budgetCurrency, 'budget');
  return { amount: null, currency: budgetCurrency, source: null };
}

function priced(amount: number, currency: string | null | undefined, budgetCurrency: string | null, source: EffectiveAmountSource) {
  return { amount: toDecimal(amount), currency: normaliseCurrency(currency) ?? budgetCurrency, source };
}

/** §0.6: currency codes are stored and compared upper-cased; absent or empty is unknown. */
function normaliseCurrency(currency: string | null | undefined): string | null {
  return currency === undefined || currency === null || currency === '' ? null : currency.toUpperCase();
}
