import { addDecimals } from '../shared/decimal';
import type { OrderSpend, SpendWindow } from './delegation-policy';
import { SpendLedger } from './spend-ledger';

const DAY = '2026-01-01';

const order = (orderId: string, amount: string | null, currency: string | null = 'USDT', day = DAY): OrderSpend => ({
  orderId,
  amount,
  currency,
  day,
});

const ledgerOf = (orders: OrderSpend[]): SpendLedger => orders.reduce((ledger, o) => ledger.add(o), SpendLedger.EMPTY);

/** §5.7 `spentToday` by definition, over the ledger's latest-day window, summed entry by entry. */
function reference(orders: OrderSpend[], window: SpendWindow): string {
  const excluded = new Set(window.excludedOrderIds ?? []);
  let spent = '0';
  for (const o of orders) {
    if (o.day !== window.day || excluded.has(o.orderId) || o.amount === null) continue;
    if (window.currency !== null && o.currency !== null && o.currency !== window.currency) continue;
    spent = addDecimals(spent, o.amount);
  }
  return spent;
}

/** The orders a ledger built from `orders` holds: those from the last registration of a newer day on. */
function window(orders: OrderSpend[]): OrderSpend[] {
  let held: OrderSpend[] = [];
  let day: string | null = null;
  for (const o of orders) {
    if (day === null || o.day > day) {
      held = [o];
      day = o.day;
    } else held.push(o);
  }
  return held;
}

describe('§5.7 spentToday (SpendLedger)', () => {
  const orders = [
    order('ord_1', '1.1'),
    order('ord_2', '2.2'),
    order('ord_3', null),
    order('ord_4', '4', 'EUR'),
    order('ord_5', '5', null),
    order('ord_6', '6', 'USDT', '2025-12-31'),
  ];
  const ledger = ledgerOf(orders);

  it('sums the day’s orders; unknown amounts and other known currencies count 0; unknown currency counts', () =>
    expect(ledger.spentOn({ day: DAY, currency: 'USDT' })).toBe('8.3'));

  it('counts every currency when the policy has none', () => expect(ledger.spentOn({ day: DAY, currency: null })).toBe('12.3'));

  it('leaves out excluded orders (cancelled, failed, refunded), each once', () =>
    expect(ledger.spentOn({ day: DAY, currency: 'USDT', excludedOrderIds: ['ord_2', 'ord_5', 'ord_2'] })).toBe('1.1'));

  it('ignores excluded ids it does not hold, and excluded orders that do not count anyway', () =>
    expect(ledger.spentOn({ day: DAY, currency: 'USDT', excludedOrderIds: ['ord_x', 'ord_3', 'ord_4', 'ord_6'] })).toBe('8.3'));

  it('counts only the given UTC day: an order of an earlier day (a skewed clock) counts on its own day only', () => {
    expect(ledger.spentOn({ day: '2025-12-31', currency: 'USDT' })).toBe('6');
    expect(ledger.day).toBe(DAY);
  });

  it('is "0" without orders, and for a day after its own', () => {
    expect(SpendLedger.EMPTY.spentOn({ day: DAY, currency: null })).toBe('0');
    expect(ledger.spentOn({ day: '2026-01-02', currency: null })).toBe('0');
  });

  it('starts a new ledger on a later day: only the latest day can count again', () => {
    const next = ledger.add(order('ord_7', '7', 'USDT', '2026-01-02'));
    expect([...next].map((o) => o.orderId)).toEqual(['ord_7']);
    expect(next.has('ord_1')).toBe(false);
    expect(next.spentOn({ day: '2026-01-02', currency: 'USDT' })).toBe('7');
    expect(next.lineage).not.toBe(ledger.lineage);
  });

  it('knows the orders it holds, in registration order', () => {
    expect(ledger.size).toBe(6);
    expect(ledger.has('ord_6')).toBe(true);
    expect(ledger.has('ord_9')).toBe(false);
    expect([...ledger].map((o) => o.orderId)).toEqual(['ord_1', 'ord_2', 'ord_3', 'ord_4', 'ord_5', 'ord_6']);
    expect(ledger.at(5)).toEqual(orders[5]);
    expect(() => ledger.at(6)).toThrow(RangeError);
    expect(() => ledger.at(-1)).toThrow(RangeError);
  });

  describe('persistence', () => {
    it('an added order leaves the previous ledger as it was; both share one lineage', () => {
      const before = ledgerOf(orders.slice(0, 2));
      const after = before.add(order('ord_3', '3'));
      expect(before.size).toBe(2);
      expect(before.has('ord_3')).toBe(false);
      expect(before.spentOn({ day: DAY, currency: null })).toBe('3.3');
      expect(after.spentOn({ day: DAY, currency: null })).toBe('6.3');
      expect(after.lineage).toBe(before.lineage);
    });

    it('adding to an older ledger (a decision never written, made again) branches off without disturbing either', () => {
      const base = ledgerOf(orders.slice(0, 2));
      const discarded = base.add(order('ord_lost', '100'));
      const written = base.add(order('ord_other', '0.5'));
      expect(written.lineage).not.toBe(base.lineage);
      expect([...written].map((o) => o.orderId)).toEqual(['ord_1', 'ord_2', 'ord_other']);
      expect(written.has('ord_lost')).toBe(false);
      expect(written.spentOn({ day: DAY, currency: 'USDT' })).toBe('3.8');
      expect(discarded.spentOn({ day: DAY, currency: 'USDT' })).toBe('103.3');
      expect(base.spentOn({ day: DAY, currency: 'USDT' })).toBe('3.3');
      // Both branches keep growing independently.
      const longer = discarded.add(order('ord_9', '1'));
      expect(longer.lineage).toBe(discarded.lineage);
      expect(written.add(order('ord_9', '2')).spentOn({ day: DAY, currency: null })).toBe('5.8');
      expect(longer.spentOn({ day: DAY, currency: null })).toBe('104.3');
    });

    it('answers as the definition for random histories with branches, currencies, days and exclusions', () => {
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const currencies = ['USDT', 'EUR', null];
      const days = ['2026-01-01', '2026-01-02', '2026-01-03'];
      for (let run = 0; run < 40; run++) {
        // Each version is (ledger, the orders it was built from); a new version grows a random older one.
        const versions: Array<{ ledger: SpendLedger; orders: OrderSpend[] }> = [{ ledger: SpendLedger.EMPTY, orders: [] }];
        for (let step = 0; step < 60; step++) {
          const from = versions[random(versions.length)];
          const dayIndex = Math.min(days.length - 1, Math.floor(step / 25) + (random(10) === 0 ? -1 : 0));
          const o = order(
            `ord_${run}_${step}`,
            random(8) === 0 ? null : `${random(100)}.${random(1000)}`,
            currencies[random(3)],
            days[Math.max(0, dayIndex)],
          );
          versions.push({ ledger: from.ledger.add(o), orders: [...from.orders, o] });
        }
        for (const { ledger: l, orders: built } of versions) {
          const held = window(built);
          expect([...l]).toEqual(held);
          for (const day of days) {
            const excludedOrderIds = held.filter(() => random(4) === 0).map((o) => o.orderId);
            for (const currency of ['USDT', null]) {
              const w = { day, currency, excludedOrderIds };
              expect(l.spentOn(w)).toBe(reference(held, w));
            }
          }
        }
      }
    });
  });
});
