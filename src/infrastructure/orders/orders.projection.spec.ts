import { MarketOrderRecord } from '../../domain/order/market-order-types';
import { orderJson } from './orders.projection';

describe('orderJson', () => {
  const snapshot = Object.freeze({ id: 'svc', pricing: { amount: '1.5', currency: 'USDT' }, tags: ['a', 'b'], note: 'q"uote\\u0000' });
  const order = (extra: Record<string, unknown>) =>
    ({ id: 'ord_1', status: 'ready', input: {}, serviceSnapshot: snapshot, taskId: null, ...extra }) as unknown as MarketOrderRecord;

  it('is JSON.stringify of the order, byte for byte, whatever the other members hold', () => {
    const cases = [
      order({}),
      order({ input: { serviceSnapshot: '\u0000snapshot-0000', nested: { serviceSnapshot: { x: 1 } } } }),
      order({ input: { text: '"serviceSnapshot":"x"' }, errorMessage: 'line\nbreak' }),
      order({ serviceSnapshot: null }),
    ];
    for (const o of cases) expect(orderJson(o)).toBe(JSON.stringify(o));
    // The same snapshot object again (its JSON is remembered).
    expect(orderJson(cases[1])).toBe(JSON.stringify(cases[1]));
  });
});
