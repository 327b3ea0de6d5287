import { MarketServicePricing } from '../catalog/catalog-types';
import { effectiveAmount } from './effective-amount';

const pricing = (overrides: Partial<MarketServicePricing> = {}): { pricing: MarketServicePricing } => ({
  pricing: { mode: 'fixed', amount: null, currency: null, rate: null, notes: [], ...overrides },
});
const unknown = pricing({ mode: 'provider-defined' });

describe('effective amount (§7.3)', () => {
  it('1. takes the quote price when the quote price is known', () => {
    expect(
      effectiveAmount({
        quote: pricing({ amount: 2.5, currency: 'usdt' }),
        service: pricing({ amount: 3, currency: 'EUR' }),
        budget: { amount: 9, currency: 'usd' },
      }),
    ).toEqual({ amount: '2.5', currency: 'USDT', source: 'quote' });
  });

  it('2. takes the service price when there is no quote, or the quote price is unknown', () => {
    const service = pricing({ amount: 3, currency: 'EUR' });
    expect(effectiveAmount({ service, budget: { amount: 9 } })).toEqual({ amount: '3', currency: 'EUR', source: 'service' });
    expect(effectiveAmount({ quote: pricing({ mode: 'fixed', amount: null }), service })).toEqual({
      amount: '3',
      currency: 'EUR',
      source: 'service',
    });
    expect(effectiveAmount({ quote: pricing({ mode: 'quote-required', amount: 1 }), service })).toMatchObject({ source: 'service' });
  });

  it('3. takes the budget when no price is known', () => {
    expect(effectiveAmount({ quote: unknown, service: unknown, budget: { amount: 12.75, currency: 'usdt' } })).toEqual({
      amount: '12.75',
      currency: 'USDT',
      source: 'budget',
    });
  });

  it('4. is unknown without a price and without budget.amount; the currency is still budget.currency', () => {
    expect(effectiveAmount({ service: unknown })).toEqual({ amount: null, currency: null, source: null });
    expect(effectiveAmount({ service: unknown, budget: null })).toEqual({ amount: null, currency: null, source: null });
    expect(effectiveAmount({ service: unknown, budget: { amount: null, currency: 'usdt' } })).toEqual({
      amount: null,
      currency: 'USDT',
      source: null,
    });
  });

  it('falls back to budget.currency when the chosen source has no currency, else the currency is unknown', () => {
    expect(effectiveAmount({ service: pricing({ amount: 1 }), budget: { currency: 'usdt' } })).toEqual({
      amount: '1',
      currency: 'USDT',
      source: 'service',
    });
    expect(effectiveAmount({ quote: pricing({ amount: 1 }), service: unknown, budget: { currency: 'eur' } })).toMatchObject({
      currency: 'EUR',
    });
    expect(effectiveAmount({ service: pricing({ amount: 1 }) })).toEqual({ amount: '1', currency: null, source: 'service' });
    expect(effectiveAmount({ service: unknown, budget: { amount: 4 } })).toEqual({ amount: '4', currency: null, source: 'budget' });
  });

  it('is exact: numbers become their shortest decimal strings, never floats (§0.6)', () => {
    expect(effectiveAmount({ service: pricing({ amount: 0.1 + 0.2 }) }).amount).toBe('0.30000000000000004');
    expect(effectiveAmount({ service: pricing({ amount: 1e-7 }) }).amount).toBe('0.0000001');
    expect(effectiveAmount({ service: pricing({ amount: 1e21 }) }).amount).toBe('1000000000000000000000');
    expect(effectiveAmount({ service: unknown, budget: { amount: 0 } })).toEqual({ amount: '0', currency: null, source: 'budget' });
  });

  it('a price of 0 is known', () => {
    expect(effectiveAmount({ service: pricing({ amount: 0, currency: 'USDT' }), budget: { amount: 5 } })).toEqual({
      amount: '0',
      currency: 'USDT',
      source: 'service',
    });
  });
});
