/** §7.2 `MarketOrderStatus`. */
export const MARKET_ORDER_STATUSES = [
  'created',
  'payment_pending',
  'ready',
  'executing',
  'delivered',
  'confirmed',
  'disputed',
  'cancelled',
  'failed',
  'handoff',
] as const;

export type MarketOrderStatus = (typeof MARKET_ORDER_STATUSES)[number];

/** §7.1: terminal order statuses; order-lifecycle endpoints answer `ORDER_CLOSED` for them. */
export const TERMINAL_ORDER_STATUSES: readonly MarketOrderStatus[] = ['confirmed', 'disputed', 'cancelled', 'failed'];

/** §7.1: the statuses an order can have before `execute` starts (and returns to after a retryable failure). */
export const PRE_EXECUTION_ORDER_STATUSES = ['created', 'payment_pending', 'ready'] as const;
export type PreExecutionOrderStatus = (typeof PRE_EXECUTION_ORDER_STATUSES)[number];

export function isTerminalOrderStatus(status: MarketOrderStatus): boolean {
  return TERMINAL_ORDER_STATUSES.includes(status);
}

export function isPreExecutionOrderStatus(status: MarketOrderStatus): status is PreExecutionOrderStatus {
  return (PRE_EXECUTION_ORDER_STATUSES as readonly MarketOrderStatus[]).includes(status);
}

/** What moves an order: the trigger column of the §7.1 order table. */
export type OrderTrigger =
  /** `POST /market/orders`. */
  | 'create'
  /** `payment-intent` with a rail other than `not-required`. */
  | 'payment_intent'
  /** `payment-intent` with rail `not-required`. */
  | 'payment_intent_not_required'
  /** `payment-proof` accepted. */
  | 'payment_proof'
  /** `payment/escrow-lock` accepted. */
  | 'escrow_lock'
  /** `execute` starts (§7.5.10 step 8). */
  | 'execution_started'
  /** `execute`: native run succeeded. */
  | 'execution_delivered'
  /** `execute`: external-handoff service. */
  | 'execution_handoff'
  /** `execute`: non-retryable failure. */
  | 'execution_failed'
  /** `execute`: retryable failure; back to the status before the execution. */
  | 'execution_retryable_failure'
  /** `confirm`. */
  | 'confirm'
  /** The end of a successful `execute` when the payment type is `x402`. */
  | 'x402_auto_confirm'
  /** `dispute`. */
  | 'dispute'
  /** `cancel`. */
  | 'cancel'
  /** Forced pairing revocation (§5.8.7). */
  | 'pairing_revoked';

/**
 * One row of the §7.1 order table. `from: null` is "—" (the order does not exist yet); `to: 'previous'`
 * is "the status it had before (`created`, `payment_pending` or `ready`)".
 */
export type OrderTransitionRow = {
  from: readonly MarketOrderStatus[] | null;
  to: MarketOrderStatus | 'previous';
  triggers: readonly OrderTrigger[];
};

/** §7.1, the complete order transition table as data: no other transition exists. */
export const ORDER_TRANSITIONS: readonly OrderTransitionRow[] = [
  { from: null, to: 'created', triggers: ['create'] },
  { from: ['created'], to: 'payment_pending', triggers: ['payment_intent'] },
  { from: ['created'], to: 'ready', triggers: ['payment_intent_not_required'] },
  { from: ['created', 'payment_pending'], to: 'ready', triggers: ['payment_proof', 'escrow_lock'] },
  { from: ['created', 'payment_pending', 'ready'], to: 'executing', triggers: ['execution_started'] },
  { from: ['executing'], to: 'delivered', triggers: ['execution_delivered'] },
  { from: ['executing'], to: 'handoff', triggers: ['execution_handoff'] },
  { from: ['executing'], to: 'failed', triggers: ['execution_failed'] },
  { from: ['executing'], to: 'previous', triggers: ['execution_retryable_failure'] },
  { from: ['delivered'], to: 'confirmed', triggers: ['confirm', 'x402_auto_confirm'] },
  { from: ['handoff'], to: 'confirmed', triggers: ['confirm'] },
  { from: ['delivered', 'handoff'], to: 'disputed', triggers: ['dispute'] },
  { from: ['created', 'payment_pending', 'ready', 'handoff'], to: 'cancelled', triggers: ['cancel'] },
  { from: ['created', 'payment_pending', 'ready', 'delivered', 'handoff'], to: 'cancelled', triggers: ['pairing_revoked'] },
];

/**
 * The status `trigger` moves an order in status `from` to (`null`: the order does not exist yet), or
 * `null` when the table has no such transition (the trigger leaves the order as it is, or the endpoint
 * refuses). `previous` resolves the retryable-failure row.
 */
export function orderTransition(
  from: MarketOrderStatus | null,
  trigger: OrderTrigger,
  previous?: PreExecutionOrderStatus,
): MarketOrderStatus | null {
  for (const row of ORDER_TRANSITIONS) {
    if (!row.triggers.includes(trigger)) continue;
    if (row.from === null ? from !== null : from === null || !row.from.includes(from)) continue;
    if (row.to !== 'previous') return row.to;
    if (previous === undefined) throw new TypeError('The retryable-failure transition needs the status before the execution');
    return previous;
  }
  return null;
}

/** The statuses from which `trigger` moves an order (for `allowed` in STATE_CONFLICT details). */
export function orderStatusesAllowing(trigger: OrderTrigger): MarketOrderStatus[] {
  const allowed = new Set<MarketOrderStatus>();
  for (const row of ORDER_TRANSITIONS) if (row.triggers.includes(trigger)) for (const from of row.from ?? []) allowed.add(from);
  return MARKET_ORDER_STATUSES.filter((status) => allowed.has(status));
}
