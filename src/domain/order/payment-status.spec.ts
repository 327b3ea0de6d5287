import { MARKET_ORDER_STATUSES, MarketOrderStatus } from './order-status';
import { isTerminalPaymentStatus, MARKET_PAYMENT_STATUSES, MarketPaymentStatus, paymentTransition, PaymentTrigger } from './payment-status';

const TRIGGERS: PaymentTrigger[] = [
  'payment_intent_not_required',
  'payment_intent',
  'payment_proof',
  'escrow_lock',
  'x402_implicit_proof',
  'order_confirmed',
  'release',
  'x402_settled',
  'dispute',
  'refund',
];

/**
 * §7.1 written out independently of PAYMENT_TRANSITIONS. `refund` of an `intent_created` payment
 * depends on the order: only a cancelled or failed order's intent is refundable.
 */
// prettier-ignore
const SPEC: Record<MarketPaymentStatus | 'none', Partial<Record<PaymentTrigger, MarketPaymentStatus>>> = {
  none:            { payment_intent_not_required: 'not_required', payment_intent: 'intent_created' },
  not_required:    {},
  intent_created:  { payment_proof: 'held', escrow_lock: 'held', x402_implicit_proof: 'held', refund: 'refunded' },
  held:            { order_confirmed: 'release_pending', dispute: 'frozen', refund: 'refunded' },
  release_pending: { release: 'released', x402_settled: 'released', dispute: 'frozen' },
  released:        {},
  frozen:          { refund: 'refunded' },
  refunded:        {},
};

const REFUNDABLE_INTENT_ORDERS: MarketOrderStatus[] = ['cancelled', 'failed'];

describe('§7.1 payment transition table', () => {
  const froms: Array<MarketPaymentStatus | 'none'> = ['none', ...MARKET_PAYMENT_STATUSES];
  for (const from of froms) {
    describe(`from ${from}`, () => {
      for (const trigger of TRIGGERS) {
        const expected = SPEC[from][trigger] ?? null;
        it(`${trigger} → ${expected ?? 'unchanged'} (every order status)`, () => {
          for (const orderStatus of MARKET_ORDER_STATUSES) {
            const conditional = from === 'intent_created' && trigger === 'refund' && !REFUNDABLE_INTENT_ORDERS.includes(orderStatus);
            expect([orderStatus, paymentTransition(from === 'none' ? null : from, trigger, orderStatus)]).toEqual([
              orderStatus,
              conditional ? null : expected,
            ]);
          }
        });
      }
    });
  }

  it('an intent_created payment is refundable only once the order is cancelled or failed', () => {
    expect(paymentTransition('intent_created', 'refund')).toBeNull();
    expect(paymentTransition('intent_created', 'refund', 'cancelled')).toBe('refunded');
    expect(paymentTransition('intent_created', 'refund', 'failed')).toBe('refunded');
    expect(paymentTransition('intent_created', 'refund', 'ready')).toBeNull();
  });

  it('held and frozen payments are refundable whatever the order status', () => {
    expect(paymentTransition('held', 'refund')).toBe('refunded');
    expect(paymentTransition('frozen', 'refund')).toBe('refunded');
  });

  it('terminal payment statuses are not_required, released and refunded', () => {
    expect(MARKET_PAYMENT_STATUSES.filter(isTerminalPaymentStatus)).toEqual(['not_required', 'released', 'refunded']);
    for (const status of MARKET_PAYMENT_STATUSES.filter(isTerminalPaymentStatus)) {
      expect(TRIGGERS.map((t) => paymentTransition(status, t, 'cancelled'))).toEqual(TRIGGERS.map(() => null));
    }
  });
});
