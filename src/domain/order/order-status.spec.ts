import {
  isPreExecutionOrderStatus,
  isTerminalOrderStatus,
  MARKET_ORDER_STATUSES,
  MarketOrderStatus,
  orderStatusesAllowing,
  orderTransition,
  OrderTrigger,
} from './order-status';

const TRIGGERS: OrderTrigger[] = [
  'create',
  'payment_intent',
  'payment_intent_not_required',
  'payment_proof',
  'escrow_lock',
  'execution_started',
  'execution_delivered',
  'execution_handoff',
  'execution_failed',
  'execution_retryable_failure',
  'confirm',
  'x402_auto_confirm',
  'dispute',
  'cancel',
  'pairing_revoked',
];

/**
 * §7.1 written out independently of ORDER_TRANSITIONS, one line per status: the trigger and where it
 * leads. `prev` is "the status it had before". Every pair not listed has no transition.
 */
// prettier-ignore
const SPEC: Record<MarketOrderStatus | 'none', Partial<Record<OrderTrigger, MarketOrderStatus | 'prev'>>> = {
  none:            { create: 'created' },
  created:         { payment_intent: 'payment_pending', payment_intent_not_required: 'ready', payment_proof: 'ready', escrow_lock: 'ready',
                     execution_started: 'executing', cancel: 'cancelled', pairing_revoked: 'cancelled' },
  payment_pending: { payment_proof: 'ready', escrow_lock: 'ready', execution_started: 'executing', cancel: 'cancelled', pairing_revoked: 'cancelled' },
  ready:           { execution_started: 'executing', cancel: 'cancelled', pairing_revoked: 'cancelled' },
  executing:       { execution_delivered: 'delivered', execution_handoff: 'handoff', execution_failed: 'failed', execution_retryable_failure: 'prev' },
  delivered:       { confirm: 'confirmed', x402_auto_confirm: 'confirmed', dispute: 'disputed', pairing_revoked: 'cancelled' },
  handoff:         { confirm: 'confirmed', dispute: 'disputed', cancel: 'cancelled', pairing_revoked: 'cancelled' },
  confirmed:       {},
  disputed:        {},
  cancelled:       {},
  failed:          {},
};

describe('§7.1 order transition table', () => {
  const froms: Array<MarketOrderStatus | 'none'> = ['none', ...MARKET_ORDER_STATUSES];
  for (const from of froms) {
    describe(`from ${from}`, () => {
      for (const trigger of TRIGGERS) {
        const expected = SPEC[from][trigger];
        it(`${trigger} → ${expected ?? 'no transition'}`, () => {
          const status = from === 'none' ? null : from;
          if (expected === 'prev') {
            for (const previous of ['created', 'payment_pending', 'ready'] as const) {
              expect(orderTransition(status, trigger, previous)).toBe(previous);
            }
          } else {
            expect(orderTransition(status, trigger, 'ready')).toBe(expected ?? null);
          }
        });
      }
    });
  }

  it('needs the previous status to resolve a retryable failure', () => {
    expect(() => orderTransition('executing', 'execution_retryable_failure')).toThrow(TypeError);
  });

  it('terminal statuses are confirmed, disputed, cancelled and failed (§7.1)', () => {
    expect(MARKET_ORDER_STATUSES.filter(isTerminalOrderStatus)).toEqual(['confirmed', 'disputed', 'cancelled', 'failed']);
    for (const status of MARKET_ORDER_STATUSES) {
      if (isTerminalOrderStatus(status)) expect(TRIGGERS.map((t) => orderTransition(status, t, 'ready'))).toEqual(TRIGGERS.map(() => null));
    }
  });

  it('execution starts, and a retryable failure returns, only from created, payment_pending and ready', () => {
    expect(MARKET_ORDER_STATUSES.filter(isPreExecutionOrderStatus)).toEqual(['created', 'payment_pending', 'ready']);
    expect(orderStatusesAllowing('execution_started')).toEqual(['created', 'payment_pending', 'ready']);
  });

  it('cancel is allowed from handoff but not from delivered; forced revocation from both', () => {
    expect(orderStatusesAllowing('cancel')).toEqual(['created', 'payment_pending', 'ready', 'handoff']);
    expect(orderStatusesAllowing('pairing_revoked')).toEqual(['created', 'payment_pending', 'ready', 'delivered', 'handoff']);
  });

  it('confirm works from delivered and handoff; x402 auto-confirmation only from delivered', () => {
    expect(orderStatusesAllowing('confirm')).toEqual(['delivered', 'handoff']);
    expect(orderStatusesAllowing('x402_auto_confirm')).toEqual(['delivered']);
    expect(orderStatusesAllowing('create')).toEqual([]);
  });
});
