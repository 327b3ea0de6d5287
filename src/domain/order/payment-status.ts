import { MarketOrderStatus } from './order-status';

/** §7.2 `MarketPaymentStatus`. */
export const MARKET_PAYMENT_STATUSES = [
  'not_required',
  'intent_created',
  'held',
  'release_pending',
  'released',
  'frozen',
  'refunded',
] as const;

export type MarketPaymentStatus = (typeof MARKET_PAYMENT_STATUSES)[number];

/** §7.1: terminal payment statuses. */
export const TERMINAL_PAYMENT_STATUSES: readonly MarketPaymentStatus[] = ['not_required', 'released', 'refunded'];

export function isTerminalPaymentStatus(status: MarketPaymentStatus): boolean {
  return TERMINAL_PAYMENT_STATUSES.includes(status);
}

/** What moves a payment: the trigger column of the §7.1 payment table. */
export type PaymentTrigger =
  /** `payment-intent` with rail `not-required`. */
  | 'payment_intent_not_required'
  /** `payment-intent` with any other rail. */
  | 'payment_intent'
  /** `payment-proof` accepted. */
  | 'payment_proof'
  /** `payment/escrow-lock` accepted. */
  | 'escrow_lock'
  /** Successful `x402` `execute` without an earlier proof (implicit header proof). */
  | 'x402_implicit_proof'
  /** The order was confirmed (`confirm`, or x402 auto-confirmation). */
  | 'order_confirmed'
  /** `payment/release`. */
  | 'release'
  /** x402: immediately after auto-confirmation in the same `execute` (the provider settled). */
  | 'x402_settled'
  /** `dispute`. */
  | 'dispute'
  /** `payment/refund`. */
  | 'refund';

/**
 * One row of the §7.1 payment table. `from: null` is "—" (no payment record yet). `orderStatuses`
 * restricts the row to orders in those statuses (refunding an `intent_created` payment).
 */
export type PaymentTransitionRow = {
  from: readonly MarketPaymentStatus[] | null;
  to: MarketPaymentStatus;
  triggers: readonly PaymentTrigger[];
  orderStatuses?: readonly MarketOrderStatus[];
};

/** §7.1, the complete payment transition table as data: no other transition exists. */
export const PAYMENT_TRANSITIONS: readonly PaymentTransitionRow[] = [
  { from: null, to: 'not_required', triggers: ['payment_intent_not_required'] },
  { from: null, to: 'intent_created', triggers: ['payment_intent'] },
  { from: ['intent_created'], to: 'held', triggers: ['payment_proof', 'escrow_lock', 'x402_implicit_proof'] },
  { from: ['held'], to: 'release_pending', triggers: ['order_confirmed'] },
  { from: ['release_pending'], to: 'released', triggers: ['release', 'x402_settled'] },
  { from: ['held', 'release_pending'], to: 'frozen', triggers: ['dispute'] },
  { from: ['held', 'frozen'], to: 'refunded', triggers: ['refund'] },
  { from: ['intent_created'], to: 'refunded', triggers: ['refund'], orderStatuses: ['cancelled', 'failed'] },
];

/**
 * The status `trigger` moves a payment in status `from` to (`null`: no record yet), given the order's
 * status; `null` when the table has no such transition. §7.1: "a trigger leaves a payment unchanged when
 * the payment is not in one of the source statuses of the corresponding row".
 */
export function paymentTransition(
  from: MarketPaymentStatus | null,
  trigger: PaymentTrigger,
  orderStatus?: MarketOrderStatus,
): MarketPaymentStatus | null {
  for (const row of PAYMENT_TRANSITIONS) {
    if (!row.triggers.includes(trigger)) continue;
    if (row.from === null ? from !== null : from === null || !row.from.includes(from)) continue;
    if (row.orderStatuses && (orderStatus === undefined || !row.orderStatuses.includes(orderStatus))) continue;
    return row.to;
  }
  return null;
}
