import { catalogService } from '../../../test/support/catalog-service';
import { deciderSpec, illegal, legal, Transition, transitionTable } from '../../../test/support/decider-spec';
import { MarketServiceDetail, OperationContract } from '../catalog/catalog-types';
import { toEip55Address } from '../machine/eip55-address';
import { MarketQuote } from '../search/market-search.decider';
import { fold } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import {
  applyMarketOrderEvent,
  CreateMarketOrder,
  FinishExecution,
  marketOrderDecider,
  MarketOrderCommand,
  MarketOrderEvent,
  marketOrderEventEntity,
  MarketOrderState,
  marketOrderStream,
  StartExecution,
} from './market-order.decider';
import { MarketPaymentChallenge, MarketPaymentProof, MarketPaymentRecord, OrderPaymentSettings } from './market-order-types';
import { MarketOrderStatus } from './order-status';
import { paymentHeadersFacts } from './payment-headers';
import { planPaymentIntent } from './payment-intent';
import { preparePaymentProof } from './payment-proof';

// ---------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------

const T0 = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-01T00:10:00.000Z';
const ORD = 'ord_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const PAY = 'pay_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const MACH = 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const PAIR = 'pair_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const addr = (hex: string) => toEip55Address('0x' + hex.repeat(40 / hex.length));
const PAYEE = addr('ab12');
const PAYER = addr('cd34');
const USDT = addr('ef56');
const ESCROW = addr('9a');
const TX = '0x' + 'aa'.repeat(32);
const TX2 = '0x' + 'bb'.repeat(32);
const SOL_PAYEE = '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T';
const SOL_PAYER = '7vfCXTUXx5WJV5JADk17DUJ4ksgau7utNKj4b963voxs';
const SOL_TX = '5'.repeat(80);

const SETTINGS: OrderPaymentSettings = {
  chainId: 3338,
  usdtContract: USDT,
  usdtDecimals: 6,
  enforceServicePaymentRails: false,
  requirePaymentRpcVerification: false,
  requirePaymentBeforeExecute: false,
};

const spec = deciderSpec(marketOrderDecider, { now: NOW, settings: SETTINGS });

const CONTRACT: OperationContract = {
  operation: 'get-price',
  summary: 'Price of a symbol',
  inputFields: [
    { key: 'symbol', type: 'string', required: true },
    { key: 'depth', type: 'integer', required: false },
  ],
  outputFields: [],
  exampleInput: { symbol: 'BTC' },
  notes: [],
};

/** A native price feed (0.5 USDT, fixed) paid through the `escrow` rail on peaq. */
function service(overrides: Partial<MarketServiceDetail> = {}): MarketServiceDetail {
  return {
    ...catalogService({
      payment: { defaultRail: 'escrow', required: true, supportedRails: ['escrow', 'wallet'], payTo: PAYEE, network: 'peaq', amount: '99' },
    }),
    operationContracts: [CONTRACT],
    ...overrides,
  };
}

function quote(overrides: Partial<MarketQuote> = {}): MarketQuote {
  const s = service();
  return {
    id: 'quo_1',
    searchId: 'srch_1',
    machineId: MACH,
    createdAt: T0,
    expiresAt: '2026-01-01T00:15:00.000Z',
    serviceId: s.id,
    skillKey: s.skillKey,
    providerKey: s.providerKey,
    executionMode: s.executionMode,
    integrationStatus: s.integrationStatus,
    operation: 'get-price',
    score: 90,
    reasons: [],
    pricing: { mode: 'fixed', amount: 0.25, currency: 'usdt', rate: null, notes: [] },
    payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], payTo: PAYEE, network: 'base' },
    serviceType: s.serviceType,
    rank: 1,
    region: 'global',
    handoff: null,
    ...overrides,
  };
}

const create = (overrides: Partial<CreateMarketOrder> = {}): CreateMarketOrder => ({
  type: 'create',
  id: ORD,
  machineId: MACH,
  agentPairingId: PAIR,
  serviceId: 'acme.feed',
  input: { symbol: 'BTC' },
  service: service(),
  ...overrides,
});

const intent = (overrides: Partial<Extract<MarketOrderCommand, { type: 'create_payment_intent' }>> = {}): MarketOrderCommand => ({
  type: 'create_payment_intent',
  orderId: ORD,
  paymentId: PAY,
  ...overrides,
});

const TRANSFER = { txHash: TX, amount: '0.5', fromAddress: PAYER, toAddress: PAYEE };
const proof = (overrides: Partial<Extract<MarketOrderCommand, { type: 'record_payment_proof' }>['proof']> = {}, extra = {}) =>
  ({ type: 'record_payment_proof', orderId: ORD, proof: { ...TRANSFER, ...overrides }, ...extra }) as MarketOrderCommand;
const headerProof = (facts = X402_FACTS): MarketOrderCommand => ({
  type: 'record_payment_proof',
  orderId: ORD,
  proof: { paymentHeaders: facts },
});
const lock = (escrow = {}, extra = {}): MarketOrderCommand => ({
  type: 'lock_escrow',
  orderId: ORD,
  escrow: { txHash: TX2, ...escrow },
  ...extra,
});

const ROUTE = { kind: 'resolved', taskId: 'task_1', routeId: 'route_1', runId: 'run_1' } as const;
const start = (overrides: Partial<StartExecution> = {}): MarketOrderCommand => ({
  type: 'start_execution',
  orderId: ORD,
  route: ROUTE,
  ...overrides,
});
const finish = (result: FinishExecution['result'], extra: Partial<FinishExecution> = {}): MarketOrderCommand => ({
  type: 'finish_execution',
  orderId: ORD,
  routeId: 'route_2',
  runId: 'run_2',
  result,
  ...extra,
});
const HANDOFF = { label: 'Partner console', url: 'https://partner.example/start', notes: [] };
const DELIVER = finish({ kind: 'delivered', outcomeId: 'out_1' });
const HAND_OFF = finish({ kind: 'handoff', outcomeId: 'out_1', handoff: HANDOFF });
const FAIL = finish({ kind: 'failed', outcomeId: 'out_1', errorMessage: 'HTTP 500: boom', providerStatus: 500 });
const RETRY = finish({ kind: 'retryable_failure', errorMessage: 'HTTP 503: busy' });
const CONFIRM: MarketOrderCommand = { type: 'confirm', orderId: ORD };
const DISPUTE: MarketOrderCommand = { type: 'dispute', orderId: ORD, reason: 'wrong price', evidence: { apiKey: 'k', note: 'n' } };
const CANCEL: MarketOrderCommand = { type: 'cancel', orderId: ORD, reason: 'changed my mind' };
const REVOKE: MarketOrderCommand = { type: 'cancel_for_pairing_revocation', orderId: ORD };
const RELEASE: MarketOrderCommand = { type: 'release_payment', orderId: ORD };
const REFUND: MarketOrderCommand = { type: 'refund_payment', orderId: ORD, reason: 'returned off-chain' };

const X402_HEADERS = { xPayment: 'eyJ4NDAyIjoicGF5In0=' };
const X402_FACTS = paymentHeadersFacts(X402_HEADERS)!;
const CHALLENGE: MarketPaymentChallenge = {
  protocol: 'x402',
  httpStatus: 402,
  paymentRequired: { accepts: [{ scheme: 'exact', network: 'base' }] },
  headers: { 'payment-required': 'eyJ9' },
  fetchedAt: T0,
};

/** The events the commands decide one after another (at T0): the history that leads to a state. */
function history(...commands: MarketOrderCommand[]): MarketOrderEvent[] {
  const events: MarketOrderEvent[] = [];
  for (const command of commands)
    events.push(...marketOrderDecider.decide(command, fold(marketOrderDecider, events), { now: T0, settings: SETTINGS }));
  return events;
}

function stateOf(events: MarketOrderEvent[]): Extract<MarketOrderState, { kind: 'live' }> {
  const state = fold(marketOrderDecider, events);
  if (state.kind !== 'live') throw new Error('no order');
  return state;
}

function decideError(events: MarketOrderEvent[], command: MarketOrderCommand, settings = SETTINGS): DomainError {
  try {
    marketOrderDecider.decide(command, fold(marketOrderDecider, events), { now: NOW, settings });
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('decide did not throw');
}

/** The escrow payment record `intent()` creates on the default service. */
function escrowRecord(overrides: Partial<MarketPaymentRecord> = {}): MarketPaymentRecord {
  return {
    id: PAY,
    orderId: ORD,
    machineId: MACH,
    type: 'escrow',
    status: 'intent_created',
    required: true,
    amount: '0.5',
    currency: 'USDT',
    network: 'evm',
    chainId: 3338,
    tokenAddress: USDT,
    tokenDecimals: 6,
    payerAddress: null,
    payTo: PAYEE,
    challenge: null,
    proof: null,
    escrow: null,
    refundReason: null,
    heldAt: null,
    releasePendingAt: null,
    releasedAt: null,
    frozenAt: null,
    refundedAt: null,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

/** The stored proof of `proof()` on the default escrow payment. */
function storedProof(overrides: Partial<MarketPaymentProof> = {}): MarketPaymentProof {
  return {
    verificationMode: 'recorded',
    network: 'evm',
    txHash: TX,
    chainId: 3338,
    tokenAddress: USDT,
    tokenDecimals: 6,
    amount: '0.5',
    fromAddress: PAYER,
    toAddress: PAYEE,
    blockNumber: null,
    confirmations: null,
    paymentHeadersFingerprint: null,
    settlement: null,
    recordedAt: NOW,
    ...overrides,
  };
}

// Event builders (decided at NOW).
const e = {
  paymentPending: (): MarketOrderEvent => ({
    type: 'market_order.payment_pending',
    data: { from: 'created', to: 'payment_pending', at: NOW },
  }),
  ready: (from: 'created' | 'payment_pending'): MarketOrderEvent => ({ type: 'market_order.ready', data: { from, to: 'ready', at: NOW } }),
  started: (from: 'created' | 'payment_pending' | 'ready', input: Record<string, unknown> = { symbol: 'BTC' }): MarketOrderEvent => ({
    type: 'market_order.execution_started',
    data: { from, to: 'executing', input, taskId: 'task_1', routeId: 'route_1', runId: 'run_1', at: NOW },
  }),
  reverted: (to: 'created' | 'payment_pending' | 'ready'): MarketOrderEvent => ({
    type: 'market_order.execution_reverted',
    data: { from: 'executing', to, routeId: 'route_2', runId: 'run_2', errorMessage: 'HTTP 503: busy', at: NOW },
  }),
  delivered: (): MarketOrderEvent => ({
    type: 'market_order.delivered',
    data: {
      from: 'executing',
      to: 'delivered',
      routeId: 'route_2',
      runId: 'run_2',
      outcomeId: 'out_1',
      errorMessage: null,
      deliveredAt: NOW,
      at: NOW,
    },
  }),
  handedOff: (): MarketOrderEvent => ({
    type: 'market_order.handed_off',
    data: {
      from: 'executing',
      to: 'handoff',
      handoff: HANDOFF,
      routeId: 'route_2',
      runId: 'run_2',
      outcomeId: 'out_1',
      errorMessage: null,
      at: NOW,
    },
  }),
  failed: (): MarketOrderEvent => ({
    type: 'market_order.failed',
    data: {
      from: 'executing',
      to: 'failed',
      routeId: 'route_2',
      runId: 'run_2',
      outcomeId: 'out_1',
      errorMessage: 'HTTP 500: boom',
      providerStatus: 500,
      at: NOW,
    },
  }),
  confirmed: (from: 'delivered' | 'handoff', automatic = false): MarketOrderEvent => ({
    type: 'market_order.confirmed',
    data: { from, to: 'confirmed', automatic, confirmedAt: NOW, at: NOW },
  }),
  disputed: (from: 'delivered' | 'handoff'): MarketOrderEvent => ({
    type: 'market_order.disputed',
    data: {
      from,
      to: 'disputed',
      dispute: { reason: 'wrong price', evidence: { apiKey: '[REDACTED]', note: 'n' }, openedAt: NOW },
      disputedAt: NOW,
      at: NOW,
    },
  }),
  cancelled: (from: MarketOrderStatus, cancelReason: string | null = 'changed my mind'): MarketOrderEvent => ({
    type: 'market_order.cancelled',
    data: { from, to: 'cancelled', cancelReason, cancelledAt: NOW, at: NOW },
  }),
  intentCreated: (record: MarketPaymentRecord = escrowRecord()): MarketOrderEvent => ({
    type: 'market_payment.intent_created',
    data: record,
  }),
  proofRecorded: (
    p: MarketPaymentProof = storedProof(),
    extra: { implicit?: boolean; type?: 'wdk-usdt-transfer' } = {},
  ): MarketOrderEvent => ({
    type: 'market_payment.proof_recorded',
    data: {
      paymentId: PAY,
      from: 'intent_created',
      to: 'held',
      proof: p,
      implicit: extra.implicit ?? false,
      ...(extra.type ? { type: extra.type } : {}),
      heldAt: NOW,
      at: NOW,
    },
  }),
  escrowLocked: (): MarketOrderEvent => ({
    type: 'market_payment.escrow_locked',
    data: {
      paymentId: PAY,
      from: 'intent_created',
      to: 'held',
      escrow: { txHash: TX2, escrowAddress: null, chainId: 3338, amount: null, lockedAt: NOW },
      heldAt: NOW,
      at: NOW,
    },
  }),
  releasePending: (): MarketOrderEvent => ({
    type: 'market_payment.release_pending',
    data: { paymentId: PAY, from: 'held', to: 'release_pending', releasePendingAt: NOW, at: NOW },
  }),
  released: (settlement?: { txHash: string | null; network: string | null } | null): MarketOrderEvent => ({
    type: 'market_payment.released',
    data: {
      paymentId: PAY,
      from: 'release_pending',
      to: 'released',
      releasedAt: NOW,
      ...(settlement !== undefined ? { settlement } : {}),
      at: NOW,
    },
  }),
  frozen: (from: 'held' | 'release_pending' = 'held'): MarketOrderEvent => ({
    type: 'market_payment.frozen',
    data: { paymentId: PAY, from, to: 'frozen', frozenAt: NOW, at: NOW },
  }),
  refunded: (from: 'held' | 'frozen' | 'intent_created', refundReason: string | null = 'returned off-chain'): MarketOrderEvent => ({
    type: 'market_payment.refunded',
    data: { paymentId: PAY, from, to: 'refunded', refundReason, refundedAt: NOW, at: NOW },
  }),
  challengeRefreshed: (challenge: MarketPaymentChallenge = CHALLENGE): MarketOrderEvent => ({
    type: 'market_payment.challenge_refreshed',
    data: { paymentId: PAY, changes: { challenge }, at: NOW },
  }),
};

// Histories on the default escrow service.
const H = {
  created: () => history(create()),
  payment_pending: () => history(create(), intent()),
  ready: () => history(create(), intent(), proof()),
  executing: () => history(create(), intent(), proof(), start()),
  delivered: () => history(create(), intent(), proof(), start(), DELIVER),
  handoff: () => history(create(), intent(), proof(), start(), HAND_OFF),
  confirmed: () => history(create(), intent(), proof(), start(), DELIVER, CONFIRM),
  disputed: () => history(create(), intent(), proof(), start(), DELIVER, DISPUTE),
  cancelled: () => history(create(), intent(), proof(), CANCEL),
  failed: () => history(create(), intent(), proof(), start(), FAIL),
};

// ---------------------------------------------------------------------------------------------------
// The order table, walked: every order status × every command (§7.1, §7.5)
// ---------------------------------------------------------------------------------------------------

describe('market order decider', () => {
  describe('§7.1 order transitions: every status × every command', () => {
    const STATES = Object.keys(H) as Array<keyof typeof H>;
    const COMMANDS = {
      'payment-intent': intent({ rail: 'escrow' }),
      'payment-proof': proof(),
      'escrow-lock': lock(),
      'execute start': start(),
      'execute delivered': DELIVER,
      'execute handoff': HAND_OFF,
      'execute failed': FAIL,
      'execute retryable failure': RETRY,
      confirm: CONFIRM,
      dispute: DISPUTE,
      cancel: CANCEL,
      'forced pairing revocation': REVOKE,
      'payment/release': RELEASE,
      'payment/refund': REFUND,
    } as const;
    type C = keyof typeof COMMANDS;

    const closed = (status: string) => illegal('ORDER_CLOSED', { orderId: ORD, status });
    const notDelivered = (status: string) => illegal('ORDER_NOT_DELIVERED', { orderId: ORD, status });
    const notExecuting = (status: string) =>
      illegal('STATE_CONFLICT', {
        entityType: 'market-order',
        id: ORD,
        status,
        reason: 'execution_not_in_progress',
        allowed: ['executing'],
      });
    const notCancellable = (status: string) =>
      illegal('STATE_CONFLICT', {
        entityType: 'market-order',
        id: ORD,
        status,
        reason: 'order_not_cancellable',
        allowed: ['created', 'payment_pending', 'ready', 'handoff'],
      });
    const intentMissing = (status: string) =>
      illegal('STATE_CONFLICT', { entityType: 'market-order', id: ORD, status, reason: 'payment_intent_missing' });
    const notRefundable = (status: string) =>
      illegal('STATE_CONFLICT', { entityType: 'market-payment', id: PAY, status, reason: 'payment_not_refundable' });
    const finishes = (t: Transition<MarketOrderEvent>) => ({
      'execute delivered': t,
      'execute handoff': t,
      'execute failed': t,
      'execute retryable failure': t,
    });
    const lifecycleClosed = (status: string) => ({
      'payment-intent': closed(status),
      'payment-proof': closed(status),
      'escrow-lock': closed(status),
      'execute start': closed(status),
      confirm: closed(status),
      dispute: closed(status),
      cancel: closed(status),
      ...finishes(notExecuting(status)),
      'forced pairing revocation': legal<MarketOrderEvent>([]),
    });

    // prettier-ignore
    const TABLE: Record<keyof typeof H, Record<C, Transition<MarketOrderEvent>>> = {
      created: {
        'payment-intent': legal([e.intentCreated(), e.paymentPending()]),
        'payment-proof': intentMissing('created'),
        'escrow-lock': intentMissing('created'),
        'execute start': legal([e.started('created')]),
        ...finishes(notExecuting('created')),
        confirm: notDelivered('created'),
        dispute: notDelivered('created'),
        cancel: legal([e.cancelled('created')]),
        'forced pairing revocation': legal([e.cancelled('created', 'pairing_revoked')]),
        'payment/release': notDelivered('created'),
        'payment/refund': intentMissing('created'),
      },
      payment_pending: {
        'payment-intent': legal([]),
        'payment-proof': legal([e.proofRecorded(), e.ready('payment_pending')]),
        'escrow-lock': legal([e.escrowLocked(), e.ready('payment_pending')]),
        'execute start': legal([e.started('payment_pending')]),
        ...finishes(notExecuting('payment_pending')),
        confirm: notDelivered('payment_pending'),
        dispute: notDelivered('payment_pending'),
        cancel: legal([e.cancelled('payment_pending')]),
        'forced pairing revocation': legal([e.cancelled('payment_pending', 'pairing_revoked')]),
        'payment/release': notDelivered('payment_pending'),
        'payment/refund': notRefundable('intent_created'),
      },
      ready: {
        'payment-intent': legal([]),
        'payment-proof': legal([]),
        'escrow-lock': legal([]),
        'execute start': legal([e.started('ready')]),
        ...finishes(notExecuting('ready')),
        confirm: notDelivered('ready'),
        dispute: notDelivered('ready'),
        cancel: legal([e.cancelled('ready')]),
        'forced pairing revocation': legal([e.cancelled('ready', 'pairing_revoked')]),
        'payment/release': notDelivered('ready'),
        'payment/refund': legal([e.refunded('held')]),
      },
      executing: {
        'payment-intent': legal([]),
        'payment-proof': legal([]),
        'escrow-lock': legal([]),
        'execute start': illegal('STATE_CONFLICT', { entityType: 'market-order', id: ORD, status: 'executing', reason: 'execution_in_progress' }),
        'execute delivered': legal([e.delivered()]),
        'execute handoff': legal([e.handedOff()]),
        'execute failed': legal([e.failed()]),
        'execute retryable failure': legal([e.reverted('ready')]),
        confirm: notDelivered('executing'),
        dispute: notDelivered('executing'),
        cancel: notCancellable('executing'),
        // The revocation refused executing orders up front; one that started executing since is left alone.
        'forced pairing revocation': legal([]),
        'payment/release': notDelivered('executing'),
        'payment/refund': legal([e.refunded('held')]),
      },
      delivered: {
        'payment-intent': legal([]),
        'payment-proof': legal([]),
        'escrow-lock': legal([]),
        'execute start': legal([]),
        ...finishes(notExecuting('delivered')),
        confirm: legal([e.confirmed('delivered'), e.releasePending()]),
        dispute: legal([e.disputed('delivered'), e.frozen()]),
        cancel: notCancellable('delivered'),
        'forced pairing revocation': legal([e.cancelled('delivered', 'pairing_revoked')]),
        'payment/release': notDelivered('delivered'),
        'payment/refund': legal([e.refunded('held')]),
      },
      handoff: {
        'payment-intent': legal([]),
        'payment-proof': legal([]),
        'escrow-lock': legal([]),
        'execute start': legal([]),
        ...finishes(notExecuting('handoff')),
        confirm: legal([e.confirmed('handoff'), e.releasePending()]),
        dispute: legal([e.disputed('handoff'), e.frozen()]),
        cancel: legal([e.cancelled('handoff')]),
        'forced pairing revocation': legal([e.cancelled('handoff', 'pairing_revoked')]),
        'payment/release': notDelivered('handoff'),
        'payment/refund': legal([e.refunded('held')]),
      },
      confirmed: {
        ...lifecycleClosed('confirmed'),
        'payment/release': legal([e.released()]),
        'payment/refund': notRefundable('release_pending'),
      },
      disputed: {
        ...lifecycleClosed('disputed'),
        'payment/release': notDelivered('disputed'),
        'payment/refund': legal([e.refunded('frozen')]),
      },
      cancelled: {
        ...lifecycleClosed('cancelled'),
        'payment/release': notDelivered('cancelled'),
        'payment/refund': legal([e.refunded('held')]),
      },
      failed: {
        ...lifecycleClosed('failed'),
        'payment/release': notDelivered('failed'),
        'payment/refund': legal([e.refunded('held')]),
      },
    };

    transitionTable(spec, {
      states: STATES.map((name) => ({ name, given: H[name]() })),
      commands: (Object.keys(COMMANDS) as C[]).map((name) => ({ name, command: COMMANDS[name] })),
      expect: (state, command) => TABLE[state][command],
    });

    it('every command on an unknown order is NOT_FOUND (market-order)', () => {
      for (const command of Object.values(COMMANDS))
        spec.given([]).when(command).thenThrows('NOT_FOUND', { entityType: 'market-order', id: ORD });
    });
  });

  // -------------------------------------------------------------------------------------------------
  // The payment table, walked: every payment status × every payment-moving command
  // -------------------------------------------------------------------------------------------------

  describe('§7.1 payment transitions: every payment status × every command', () => {
    const FREE = service({
      pricing: { mode: 'provider-defined', amount: null, currency: null, rate: null, notes: [] },
      payment: { defaultRail: 'not-required', required: false, supportedRails: ['not-required'] },
    });
    const P = {
      'none (order created)': () => history(create()),
      'not_required (order ready)': () => history(create({ service: FREE }), intent()),
      'intent_created (order payment_pending)': () => history(create(), intent()),
      'intent_created (order cancelled)': () => history(create(), intent(), CANCEL),
      'intent_created (order failed)': () => history(create(), intent(), start(), FAIL),
      'held (order ready)': () => history(create(), intent(), proof()),
      'held (order delivered)': () => history(create(), intent(), proof(), start(), DELIVER),
      'release_pending (order confirmed)': () => history(create(), intent(), proof(), start(), DELIVER, CONFIRM),
      'released (order confirmed)': () => history(create(), intent(), proof(), start(), DELIVER, CONFIRM, RELEASE),
      'frozen (order disputed)': () => history(create(), intent(), proof(), start(), DELIVER, DISPUTE),
      'refunded (order delivered)': () => history(create(), intent(), proof(), start(), DELIVER, REFUND),
      'refunded (order cancelled)': () => history(create(), intent(), proof(), CANCEL, REFUND),
    };
    const COMMANDS = {
      'payment-intent': intent({ rail: 'escrow' }),
      'payment-proof': proof({ txHash: TX2 }),
      'escrow-lock': lock(),
      confirm: CONFIRM,
      dispute: DISPUTE,
      'payment/release': RELEASE,
      'payment/refund': REFUND,
    } as const;
    type S = keyof typeof P;
    type C = keyof typeof COMMANDS;

    const closed = (status: string) => illegal('ORDER_CLOSED', { orderId: ORD, status });
    const notDelivered = (status: string) => illegal('ORDER_NOT_DELIVERED', { orderId: ORD, status });
    const payment = (status: string, reason: string) =>
      illegal('STATE_CONFLICT', { entityType: 'market-payment', id: PAY, status, reason });
    const noIntent = (status: string) =>
      illegal('STATE_CONFLICT', { entityType: 'market-order', id: ORD, status, reason: 'payment_intent_missing' });
    const railMismatch = illegal('VALIDATION_ERROR', { reason: 'rail_mismatch' });
    const closedOrder = (status: string) => ({
      'payment-intent': closed(status),
      'payment-proof': closed(status),
      'escrow-lock': closed(status),
      confirm: closed(status),
      dispute: closed(status),
    });
    const FREE_RECORD = escrowRecord({
      type: 'not-required',
      status: 'not_required',
      required: false,
      amount: null,
      currency: null,
      network: null,
      chainId: null,
      tokenAddress: null,
      tokenDecimals: null,
      payTo: null,
    });

    // prettier-ignore
    const TABLE: Record<S, Record<C, Transition<MarketOrderEvent>>> = {
      'none (order created)': {
        'payment-intent': legal([e.intentCreated(), e.paymentPending()]),
        'payment-proof': noIntent('created'), 'escrow-lock': noIntent('created'),
        confirm: notDelivered('created'), dispute: notDelivered('created'),
        'payment/release': notDelivered('created'), 'payment/refund': noIntent('created'),
      },
      'not_required (order ready)': {
        'payment-intent': legal([]),
        'payment-proof': payment('not_required', 'payment_not_pending'), 'escrow-lock': railMismatch,
        confirm: notDelivered('ready'), dispute: notDelivered('ready'),
        'payment/release': notDelivered('ready'), 'payment/refund': payment('not_required', 'payment_not_refundable'),
      },
      'intent_created (order payment_pending)': {
        'payment-intent': legal([]),
        'payment-proof': legal([e.proofRecorded(storedProof({ txHash: TX2 })), e.ready('payment_pending')]),
        'escrow-lock': legal([e.escrowLocked(), e.ready('payment_pending')]),
        confirm: notDelivered('payment_pending'), dispute: notDelivered('payment_pending'),
        'payment/release': notDelivered('payment_pending'), 'payment/refund': payment('intent_created', 'payment_not_refundable'),
      },
      'intent_created (order cancelled)': {
        ...closedOrder('cancelled'), 'payment/release': notDelivered('cancelled'), 'payment/refund': legal([e.refunded('intent_created')]),
      },
      'intent_created (order failed)': {
        ...closedOrder('failed'), 'payment/release': notDelivered('failed'), 'payment/refund': legal([e.refunded('intent_created')]),
      },
      'held (order ready)': {
        'payment-intent': legal([]),
        'payment-proof': payment('held', 'payment_already_held'), 'escrow-lock': legal([]),
        confirm: notDelivered('ready'), dispute: notDelivered('ready'),
        'payment/release': notDelivered('ready'), 'payment/refund': legal([e.refunded('held')]),
      },
      'held (order delivered)': {
        'payment-intent': legal([]),
        'payment-proof': payment('held', 'payment_already_held'), 'escrow-lock': legal([]),
        confirm: legal([e.confirmed('delivered'), e.releasePending()]), dispute: legal([e.disputed('delivered'), e.frozen('held')]),
        'payment/release': notDelivered('delivered'), 'payment/refund': legal([e.refunded('held')]),
      },
      'release_pending (order confirmed)': {
        ...closedOrder('confirmed'), 'payment/release': legal([e.released()]), 'payment/refund': payment('release_pending', 'payment_not_refundable'),
      },
      'released (order confirmed)': {
        ...closedOrder('confirmed'), 'payment/release': legal([]), 'payment/refund': payment('released', 'payment_not_refundable'),
      },
      'frozen (order disputed)': {
        ...closedOrder('disputed'), 'payment/release': notDelivered('disputed'), 'payment/refund': legal([e.refunded('frozen')]),
      },
      'refunded (order delivered)': {
        'payment-intent': legal([]),
        'payment-proof': payment('refunded', 'payment_not_pending'), 'escrow-lock': payment('refunded', 'payment_not_pending'),
        // A refunded payment is never moved again: confirm and dispute leave it refunded (§7.5.9).
        confirm: legal([e.confirmed('delivered')]), dispute: legal([e.disputed('delivered')]),
        'payment/release': notDelivered('delivered'), 'payment/refund': legal([]),
      },
      'refunded (order cancelled)': {
        ...closedOrder('cancelled'), 'payment/release': notDelivered('cancelled'), 'payment/refund': legal([]),
      },
    };

    transitionTable(spec, {
      states: (Object.keys(P) as S[]).map((name) => ({ name, given: P[name]() })),
      commands: (Object.keys(COMMANDS) as C[]).map((name) => ({ name, command: COMMANDS[name] })),
      expect: (state, command) => TABLE[state][command],
    });

    it('the not-required intent records not_required and moves the order created → ready', () =>
      spec
        .given(history(create({ service: FREE })))
        .when(intent())
        .then([e.intentCreated(FREE_RECORD), e.ready('created')]));
  });

  // -------------------------------------------------------------------------------------------------
  // Payment records the table leaves untouched or refuses, per order status (§7.1, §7.5.8–§7.5.12)
  // -------------------------------------------------------------------------------------------------

  describe('payment records the transition table leaves untouched or refuses, per order status', () => {
    const FREE = service({
      pricing: { mode: 'provider-defined', amount: null, currency: null, rate: null, notes: [] },
      payment: { defaultRail: 'not-required', required: false, supportedRails: ['not-required'] },
    });
    /** The exact `409 STATE_CONFLICT` details about the payment record. */
    const paymentConflict = (status: string, reason: string, allowed?: string[]) => ({
      entityType: 'market-payment',
      id: PAY,
      status,
      reason,
      ...(allowed ? { allowed } : {}),
    });
    const thenRefused = (given: MarketOrderEvent[], command: MarketOrderCommand, details: Record<string, unknown>) => {
      const error = decideError(given, command);
      expect([error.code, error.details]).toEqual(['STATE_CONFLICT', details]);
    };

    // §7.5.9: an intent_created payment is refundable only on a cancelled or failed order.
    const INTENT_CREATED = {
      executing: () => history(create(), intent(), start()),
      delivered: () => history(create(), intent(), start(), DELIVER),
      handoff: () => history(create(), intent(), start(), HAND_OFF),
      confirmed: () => history(create(), intent(), start(), DELIVER, CONFIRM),
      disputed: () => history(create(), intent(), start(), DELIVER, DISPUTE),
    };
    it.each(Object.keys(INTENT_CREATED) as Array<keyof typeof INTENT_CREATED>)(
      'payment/refund of an intent_created payment on a %s order → payment_not_refundable, nothing written',
      (status) => {
        const given = INTENT_CREATED[status]();
        expect(stateOf(given)).toMatchObject({ order: { status }, payment: { status: 'intent_created' } });
        thenRefused(given, REFUND, paymentConflict('intent_created', 'payment_not_refundable'));
      },
    );

    // §7.5.8: a confirmed order's payment must be release_pending (released is idempotent).
    const CONFIRMED = [
      ['not_required', 'delivered', () => history(create({ service: FREE }), intent(), start(), DELIVER, CONFIRM)],
      ['refunded', 'delivered', () => history(create(), intent(), proof(), start(), DELIVER, REFUND, CONFIRM)],
      ['refunded', 'handoff', () => history(create(), intent(), proof(), start(), HAND_OFF, REFUND, CONFIRM)],
    ] as const;
    it.each(CONFIRMED)(
      'payment/release on a confirmed order whose payment is %s (confirmed from %s) → payment_not_release_pending',
      (payment, _from, given) => {
        expect(stateOf(given())).toMatchObject({ order: { status: 'confirmed' }, payment: { status: payment } });
        thenRefused(given(), RELEASE, paymentConflict(payment, 'payment_not_release_pending', ['release_pending']));
      },
    );

    // §7.5.11, §7.5.12: only held (confirm) or held/release_pending (dispute) payments move.
    const DELIVERED_OR_HANDOFF = [
      ['delivered', 'not_required', () => history(create({ service: FREE }), intent(), start(), DELIVER)],
      ['handoff', 'not_required', () => history(create({ service: FREE }), intent(), start(), HAND_OFF)],
      ['delivered', 'intent_created', () => history(create(), intent(), start(), DELIVER)],
      ['handoff', 'intent_created', () => history(create(), intent(), start(), HAND_OFF)],
    ] as const;

    it.each(DELIVERED_OR_HANDOFF.filter(([, payment]) => payment === 'not_required'))(
      'confirm of a %s order whose payment is %s: order confirmed, no payment event',
      (from, payment, given) => {
        spec
          .given(given())
          .when(CONFIRM)
          .then([e.confirmed(from)]);
        spec
          .given(given())
          .when(CONFIRM)
          .thenState((s) => s.kind === 'live' && s.order.status === 'confirmed' && s.payment?.status === payment);
      },
    );

    it.each(DELIVERED_OR_HANDOFF)(
      'dispute of a %s order whose payment is %s: order disputed, payment not frozen',
      (from, payment, given) => {
        spec
          .given(given())
          .when(DISPUTE)
          .then([e.disputed(from)]);
        spec
          .given(given())
          .when(DISPUTE)
          .thenState(
            (s) => s.kind === 'live' && s.order.status === 'disputed' && s.payment?.status === payment && s.payment.frozenAt === null,
          );
      },
    );

    // §7.1: only `delivered` → `confirmed` is automatic for x402; `handoff` → `confirmed` needs `confirm`.
    describe('x402 execution ending in a handoff', () => {
      const X402_HANDOFF = service({
        executionMode: 'external-handoff',
        payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], payTo: PAYEE, network: 'base' },
      });
      const handOff = finish({ kind: 'handoff', outcomeId: 'out_1', handoff: HANDOFF }, { paymentHeaders: X402_FACTS });
      const EXECUTING = [
        [
          'intent_created',
          'no earlier proof',
          () => history(create({ service: X402_HANDOFF }), intent({ challenge: CHALLENGE }), start({ paymentHeaders: X402_FACTS })),
        ],
        [
          'held',
          'an earlier header proof',
          () =>
            history(
              create({ service: X402_HANDOFF }),
              intent({ challenge: CHALLENGE }),
              headerProof(),
              start({ paymentHeaders: X402_FACTS }),
            ),
        ],
      ] as const;

      it.each(EXECUTING)(
        'payment %s (%s): the order is handed off, not auto-confirmed, and the payment is left as it is',
        (payment, _how, given) => {
          expect(stateOf(given())).toMatchObject({ order: { status: 'executing' }, payment: { type: 'x402', status: payment } });
          spec.given(given()).when(handOff).then([e.handedOff()]);
          spec
            .given(given())
            .when(handOff)
            .thenState(
              (s) => s.kind === 'live' && s.order.status === 'handoff' && s.order.confirmedAt === null && s.payment?.status === payment,
            );
        },
      );

      it('the handed-off x402 order is confirmed by confirm, moving a held payment to release_pending only', () =>
        spec
          .given(
            history(
              create({ service: X402_HANDOFF }),
              intent({ challenge: CHALLENGE }),
              headerProof(),
              start({ paymentHeaders: X402_FACTS }),
              handOff,
            ),
          )
          .when(CONFIRM)
          .then([e.confirmed('handoff'), e.releasePending()]));
    });
  });

  // -------------------------------------------------------------------------------------------------
  // POST /market/orders (§7.5.2 steps 5–8, 10)
  // -------------------------------------------------------------------------------------------------

  describe('create (§7.5.2)', () => {
    it('creates the order exactly as §7.2 describes it', () => {
      spec
        .given([])
        .when(create({ input: { symbol: 'BTC', password: 'hunter2' }, budget: { amount: 2, currency: 'usdt' } }))
        .then([
          {
            type: 'market_order.created',
            data: {
              id: ORD,
              machineId: MACH,
              agentPairingId: PAIR,
              searchId: null,
              quoteId: null,
              serviceId: 'acme.feed',
              skillKey: 'oracle.price',
              providerKey: 'acme',
              serviceType: 'oracle.price-feed',
              operation: 'get-price',
              executionMode: 'native',
              integrationStatus: 'native',
              status: 'created',
              input: { symbol: 'BTC', password: '[REDACTED]' },
              budget: { amount: 2, currency: 'USDT' },
              // The catalogued amount ('99') is replaced by the effective one (the service price).
              payment: {
                defaultRail: 'escrow',
                required: true,
                supportedRails: ['escrow', 'wallet'],
                payTo: PAYEE,
                network: 'peaq',
                amount: '0.5',
                currency: 'USDT',
              },
              serviceSnapshot: JSON.parse(JSON.stringify(service())),
              taskId: null,
              routeId: null,
              runId: null,
              outcomeId: null,
              handoff: null,
              errorMessage: null,
              paymentId: null,
              deliveredAt: null,
              confirmedAt: null,
              disputedAt: null,
              cancelledAt: null,
              cancelReason: null,
              dispute: null,
              createdAt: NOW,
              updatedAt: NOW,
            },
          },
        ]);
    });

    it('refuses to create an order twice', () =>
      spec
        .given(H.created())
        .when(create())
        .thenThrows('STATE_CONFLICT', { entityType: 'market-order', id: ORD, status: 'created', reason: 'exists' }));

    it('never stores machineContext in the snapshot', () => {
      const detail = service({ machineContext: { machineId: MACH, runtimeEndpoint: null, policyDenials: [] } });
      spec
        .given([])
        .when(create({ service: detail }))
        .thenState((s) => s.kind === 'live' && !('machineContext' in s.order.serviceSnapshot));
    });

    it('budget is null without one, and has both members (null when unset) with one', () => {
      spec
        .given([])
        .when(create())
        .thenState((s) => s.kind === 'live' && s.order.budget === null);
      spec
        .given([])
        .when(create({ budget: {} }))
        .thenState((s) => s.kind === 'live' && JSON.stringify(s.order.budget) === '{"amount":null,"currency":null}');
    });

    it('omits payment.amount and payment.currency when the effective amount is unknown', () => {
      const unpriced = service({ pricing: { mode: 'quote-required', amount: 3, currency: 'USDT', rate: null, notes: [] } });
      const events = history(create({ service: unpriced, budget: { currency: 'usdt' } }));
      const { payment } = stateOf(events).order;
      expect(payment).not.toHaveProperty('amount');
      expect(payment).not.toHaveProperty('currency');
      expect(payment.payTo).toBe(PAYEE);
    });

    it('takes the budget as the effective amount when no price is known', () => {
      const unpriced = service({ pricing: { mode: 'provider-defined', amount: null, currency: null, rate: null, notes: [] } });
      const { payment } = stateOf(history(create({ service: unpriced, budget: { amount: 1.25, currency: 'eur' } }))).order;
      expect([payment.amount, payment.currency]).toEqual(['1.25', 'EUR']);
    });

    describe('with a quote (step 5)', () => {
      it('locks the quote: its operation, payment recommendation, price and search', () => {
        const { order } = stateOf(history(create({ serviceId: undefined, quote: quote() })));
        expect(order).toMatchObject({ quoteId: 'quo_1', searchId: 'srch_1', operation: 'get-price' });
        expect(order.payment).toEqual({
          defaultRail: 'wallet',
          required: true,
          supportedRails: ['wallet'],
          payTo: PAYEE,
          network: 'base',
          amount: '0.25',
          currency: 'USDT',
        });
      });

      it('refuses a quote of another machine (quote_machine_mismatch)', () =>
        spec
          .given([])
          .when(create({ quote: quote({ machineId: 'mach_other' }) }))
          .thenThrows('VALIDATION_ERROR', { reason: 'quote_machine_mismatch' }));

      it('refuses a serviceId that is not the quote’s (quote_service_mismatch)', () =>
        spec
          .given([])
          .when(create({ serviceId: 'other', quote: quote() }))
          .thenThrows('VALIDATION_ERROR', { reason: 'quote_service_mismatch' }));

      it('refuses a searchId that is not the quote’s (quote_search_mismatch)', () =>
        spec
          .given([])
          .when(create({ searchId: 'srch_2', quote: quote() }))
          .thenThrows('VALIDATION_ERROR', { reason: 'quote_search_mismatch' }));

      it('refuses an expired quote with QUOTE_EXPIRED { quoteId, expiresAt } (expired at expiresAt exactly)', () => {
        spec
          .given([])
          .when(create({ quote: quote({ expiresAt: NOW }) }))
          .thenThrows('QUOTE_EXPIRED', { quoteId: 'quo_1', expiresAt: NOW });
        expect(decideError([], create({ quote: quote({ expiresAt: NOW }) })).details).toEqual({ quoteId: 'quo_1', expiresAt: NOW });
      });

      it('checks the quote machine, service and search before its expiry', () => {
        const stale = { expiresAt: T0 };
        spec
          .given([])
          .when(create({ quote: quote({ ...stale, machineId: 'm' }) }))
          .thenThrows('VALIDATION_ERROR', { reason: 'quote_machine_mismatch' });
        spec
          .given([])
          .when(create({ searchId: 'x', quote: quote(stale) }))
          .thenThrows('VALIDATION_ERROR', { reason: 'quote_search_mismatch' });
      });

      it('refuses an explicit operation that differs from the quote’s (operation_mismatch)', () => {
        const twoOps = service({ operations: ['get-price', 'get-history'] });
        spec
          .given([])
          .when(create({ service: twoOps, operation: 'get-history', quote: quote() }))
          .thenThrows('VALIDATION_ERROR', { reason: 'operation_mismatch' });
      });
    });

    it('refuses a docs-only service (service_not_orderable), after the quote checks', () => {
      const docsOnly = service({ integrationStatus: 'docs-only' });
      spec
        .given([])
        .when(create({ service: docsOnly }))
        .thenThrows('VALIDATION_ERROR', { reason: 'service_not_orderable' });
      spec
        .given([])
        .when(create({ service: docsOnly, quote: quote({ expiresAt: T0 }) }))
        .thenThrows('QUOTE_EXPIRED');
    });

    describe('operation (step 7)', () => {
      const twoOps = service({ operations: ['get-price', 'get-history'] });

      it('defaults to the service’s only operation', () =>
        spec
          .given([])
          .when(create({ operation: undefined }))
          .thenState((s) => s.kind === 'live' && s.order.operation === 'get-price'));

      it('is required when the service has several (operation_required)', () =>
        spec
          .given([])
          .when(create({ service: twoOps }))
          .thenThrows('VALIDATION_ERROR', { reason: 'operation_required' }));

      it('must be one of the service’s operations (unsupported_operation)', () =>
        spec
          .given([])
          .when(create({ operation: 'delete-all' }))
          .thenThrows('VALIDATION_ERROR', { reason: 'unsupported_operation' }));

      it('checks the operation before the input', () =>
        spec
          .given([])
          .when(create({ operation: 'nope', input: {} }))
          .thenThrows('VALIDATION_ERROR', { reason: 'unsupported_operation' }));
    });

    it('validates the input against the operation contract (input_invalid, one error per field)', () => {
      const error = decideError([], create({ input: { depth: 1.5 } }));
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.details).toEqual({
        reason: 'input_invalid',
        errors: [
          { location: 'body', path: '/input/symbol', message: 'input.symbol is required' },
          { location: 'body', path: '/input/depth', message: 'input.depth must be of type integer' },
        ],
      });
    });

    it('defaults the input to {}', () =>
      spec
        .given([])
        .when(create({ service: service({ operationContracts: [] }), input: undefined }))
        .thenState((s) => s.kind === 'live' && JSON.stringify(s.order.input) === '{}'));
  });

  // -------------------------------------------------------------------------------------------------
  // payment-intent (§7.5.4)
  // -------------------------------------------------------------------------------------------------

  describe('payment-intent (§7.5.4)', () => {
    const X402 = service({ payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], payTo: PAYEE, network: 'base' } });
    const SOLANA = service({
      payment: {
        defaultRail: 'wallet',
        required: true,
        supportedRails: ['wallet'],
        payTo: SOL_PAYEE,
        network: 'solana',
        tokenAddress: SOL_PAYER,
      },
    });

    it('step 2: refuses a terminal order (ORDER_CLOSED) before returning an existing record', () =>
      spec
        .given(H.cancelled())
        .when(intent({ refreshChallenge: true }))
        .thenThrows('ORDER_CLOSED', { orderId: ORD, status: 'cancelled' }));

    it('step 3: returns an existing record unchanged, whatever the body', () =>
      spec
        .given(H.payment_pending())
        .when(intent({ rail: 'wallet', payerAddress: 'bad' }))
        .then([]));

    it('step 3: refreshes the challenge of an x402 intent with refreshChallenge=true', () =>
      spec
        .given(history(create({ service: X402 }), intent({ challenge: { ...CHALLENGE, fetchedAt: 'old' } })))
        .when(intent({ refreshChallenge: true, challenge: CHALLENGE }))
        .then([e.challengeRefreshed()]));

    it('step 3: refuses refreshChallenge=true on any other record (challenge_not_refreshable)', () => {
      spec
        .given(H.payment_pending())
        .when(intent({ refreshChallenge: true }))
        .thenThrows('STATE_CONFLICT', {
          entityType: 'market-payment',
          id: PAY,
          status: 'intent_created',
          reason: 'challenge_not_refreshable',
        });
      const heldX402 = history(create({ service: X402 }), intent({ challenge: CHALLENGE }), headerProof());
      spec
        .given(heldX402)
        .when(intent({ refreshChallenge: true }))
        .thenThrows('STATE_CONFLICT', { status: 'held', reason: 'challenge_not_refreshable' });
    });

    it('step 3: refreshChallenge=true without a record creates one', () =>
      spec
        .given(H.created())
        .when(intent({ refreshChallenge: true }))
        .then([e.intentCreated(), e.paymentPending()]));

    it('step 4: refuses rail not-required while a payment is required (rail_not_allowed)', () =>
      spec
        .given(H.created())
        .when(intent({ rail: 'not-required' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'rail_not_allowed' }));

    it('step 4: with PEAQOS_ENFORCE_SERVICE_PAYMENT_RAILS, refuses a rail outside supportedRails ∪ defaultRail (rail_not_supported)', () => {
      const enforce = { settings: { ...SETTINGS, enforceServicePaymentRails: true } };
      spec
        .given(H.created())
        .when(intent({ rail: 'x402' }), enforce)
        .thenThrows('VALIDATION_ERROR', { reason: 'rail_not_supported' });
      spec
        .given(H.created())
        .when(intent({ rail: 'wallet' }), enforce)
        .thenState((s) => s.kind === 'live' && s.payment?.type === 'wallet');
      spec
        .given(H.created())
        .when(intent({ rail: 'x402', challenge: CHALLENGE }))
        .thenState((s) => s.kind === 'live' && s.payment?.type === 'x402');
    });

    it('steps 5–6: EVM defaults — chainId from the network name, USDT only on PEAQOS_CHAIN_ID, payer stored EIP-55', () => {
      const { payment } = stateOf(history(create(), intent({ payerAddress: PAYER.toLowerCase() })));
      expect(payment).toMatchObject({
        network: 'evm',
        chainId: 3338,
        tokenAddress: USDT,
        tokenDecimals: 6,
        payerAddress: PAYER,
        payTo: PAYEE,
      });
      const onBase = stateOf(history(create({ service: X402 }), intent({ challenge: CHALLENGE }))).payment;
      expect(onBase).toMatchObject({ chainId: 8453, tokenAddress: null, tokenDecimals: null, challenge: CHALLENGE });
      const explicit = stateOf(history(create(), intent({ chainId: 1, tokenAddress: PAYEE.toLowerCase(), tokenDecimals: 18 }))).payment;
      expect(explicit).toMatchObject({ chainId: 1, tokenAddress: PAYEE, tokenDecimals: 18 });
      const unknownNetwork = service({ payment: { defaultRail: 'wallet', required: false, supportedRails: [], network: 'mystery' } });
      expect(stateOf(history(create({ service: unknownNetwork }), intent())).payment).toMatchObject({
        chainId: 3338,
        tokenAddress: USDT,
        payTo: null,
      });
    });

    it('step 6: refuses a malformed or mis-checksummed payerAddress (invalid_address)', () => {
      spec
        .given(H.created())
        .when(intent({ payerAddress: '0x1234' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_address' });
      spec
        .given(H.created())
        .when(intent({ payerAddress: PAYER.replace(/[a-f]/, (c) => c.toUpperCase()) }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_address' });
      spec
        .given(H.created())
        .when(intent({ payerAddress: SOL_PAYER }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_address' });
      spec
        .given(H.created())
        .when(intent({ tokenAddress: 'usdt' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_address' });
    });

    it('steps 5–6: Solana — no chainId (invalid_chain_id), base58 payer, token as given', () => {
      spec
        .given(history(create({ service: SOLANA })))
        .when(intent({ chainId: 1 }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_chain_id' });
      spec
        .given(history(create({ service: SOLANA })))
        .when(intent({ payerAddress: PAYER }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_address' });
      const { payment } = stateOf(history(create({ service: SOLANA }), intent({ payerAddress: SOL_PAYER })));
      expect(payment).toMatchObject({
        network: 'solana',
        chainId: null,
        tokenAddress: SOL_PAYER,
        tokenDecimals: 6,
        payerAddress: SOL_PAYER,
        payTo: SOL_PAYEE,
      });
    });

    it('step 7: an x402 intent needs the fetched challenge; the plan asks for it only when creating', () => {
      const state = stateOf(history(create({ service: X402 })));
      expect(planPaymentIntent(state, { orderId: ORD, paymentId: PAY }, SETTINGS, NOW)).toMatchObject({
        action: 'create',
        fetchChallenge: true,
      });
      expect(planPaymentIntent(stateOf(H.created()), { orderId: ORD, paymentId: PAY }, SETTINGS, NOW)).toMatchObject({
        fetchChallenge: false,
      });
      expect(() => marketOrderDecider.decide(intent(), state, { now: NOW, settings: SETTINGS })).toThrow(TypeError);
    });

    it('steps 8–9: an order in any other status keeps its status', () =>
      spec.given(history(create(), start())).when(intent()).then([e.intentCreated()]));

    it('sets order.paymentId', () =>
      spec
        .given(H.created())
        .when(intent())
        .thenState((s) => s.kind === 'live' && s.order.paymentId === PAY && s.order.updatedAt === NOW));
  });

  // -------------------------------------------------------------------------------------------------
  // payment-proof (§7.5.5)
  // -------------------------------------------------------------------------------------------------

  describe('payment-proof (§7.5.5)', () => {
    const pending = H.payment_pending;
    const WALLET = service({
      payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], payTo: PAYEE, network: 'peaq' },
    });
    const X402 = service({ payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], payTo: PAYEE, network: 'base' } });
    const SOLANA = service({
      payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], payTo: SOL_PAYEE, network: 'solana' },
    });
    const x402Pending = () => history(create({ service: X402 }), intent({ challenge: CHALLENGE }));
    const solanaPending = () => history(create({ service: SOLANA }), intent());
    const SOL_TRANSFER = { txHash: SOL_TX, amount: '0.5', fromAddress: SOL_PAYER, toAddress: SOL_PAYEE };

    it('steps 2–3: terminal order → ORDER_CLOSED; no record → payment_intent_missing', () => {
      spec
        .given(history(create(), intent(), CANCEL))
        .when(proof())
        .thenThrows('ORDER_CLOSED');
      spec.given(H.created()).when(proof()).thenThrows('STATE_CONFLICT', { reason: 'payment_intent_missing' });
    });

    it('step 4: an identical proof of a held payment is idempotent (same network, chainId, txHash — in any case)', () => {
      spec
        .given(H.ready())
        .when(proof({ txHash: TX.toUpperCase().replace('0X', '0x'), amount: '7' }))
        .then([]);
      spec
        .given(H.ready())
        .when(proof({ chainId: 1 }))
        .thenThrows('STATE_CONFLICT', { reason: 'payment_already_held' });
    });

    it('step 4: an identical header fingerprint is idempotent; another one is payment_already_held', () => {
      const held = history(create({ service: X402 }), intent({ challenge: CHALLENGE }), headerProof());
      spec.given(held).when(headerProof()).then([]);
      spec
        .given(held)
        .when(headerProof(paymentHeadersFacts({ xPayment: 'other' })!))
        .thenThrows('STATE_CONFLICT', { entityType: 'market-payment', id: PAY, status: 'held', reason: 'payment_already_held' });
    });

    it('step 4: any status other than intent_created → payment_not_pending', () =>
      spec
        .given(history(create(), intent(), proof(), start(), DELIVER, REFUND))
        .when(proof())
        .thenThrows('STATE_CONFLICT', { status: 'refunded', reason: 'payment_not_pending' }));

    it('step 5: refuses another network (network_mismatch)', () =>
      spec
        .given(pending())
        .when(proof({ network: 'solana' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'network_mismatch' }));

    it('step 6: refuses rpc for Solana and for x402 header proofs', () => {
      spec
        .given(solanaPending())
        .when(proof({ ...SOL_TRANSFER, verificationMode: 'rpc' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'rpc_not_supported_for_solana' });
      spec
        .given(x402Pending())
        .when(proof({ verificationMode: 'rpc', paymentHeaders: X402_FACTS }))
        .thenThrows('VALIDATION_ERROR', { reason: 'rpc_not_supported_for_rail' });
    });

    it('step 6: PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION forces rpc for EVM transfer proofs whatever the request says', () => {
      const prepared = preparePaymentProof(
        stateOf(pending()),
        { ...TRANSFER, verificationMode: 'recorded' },
        { ...SETTINGS, requirePaymentRpcVerification: true },
      );
      expect(prepared).toMatchObject({ action: 'record', proof: { verificationMode: 'rpc' } });
      const solana = preparePaymentProof(stateOf(solanaPending()), SOL_TRANSFER, { ...SETTINGS, requirePaymentRpcVerification: true });
      expect(solana).toMatchObject({ proof: { verificationMode: 'recorded' } });
    });

    it('step 7: transfer proofs need txHash, amount, fromAddress and toAddress', () => {
      const error = decideError(pending(), { type: 'record_payment_proof', orderId: ORD, proof: { txHash: TX } });
      expect(error.code).toBe('VALIDATION_ERROR');
      expect((error.details?.errors as Array<{ path: string }>).map((i) => i.path)).toEqual(['/amount', '/fromAddress', '/toAddress']);
    });

    it('step 7: header proofs need xPayment or paymentSignature (payment_header_required)', () => {
      spec
        .given(x402Pending())
        .when({ type: 'record_payment_proof', orderId: ORD, proof: {} })
        .thenThrows('VALIDATION_ERROR', { reason: 'payment_header_required' });
      spec
        .given(x402Pending())
        .when({ type: 'record_payment_proof', orderId: ORD, proof: { paymentHeaders: paymentHeadersFacts({ authorization: 'Bearer x' }) } })
        .thenThrows('VALIDATION_ERROR', { reason: 'payment_header_required' });
    });

    it('step 7: formats — EVM txHash, addresses (invalid_address), Solana chainId (invalid_chain_id)', () => {
      spec
        .given(pending())
        .when(proof({ txHash: '0x12' }))
        .thenThrows('VALIDATION_ERROR', { errors: [{ location: 'body', path: '/txHash', message: expect.any(String) }] });
      spec
        .given(pending())
        .when(proof({ fromAddress: 'nope' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_address' });
      spec
        .given(pending())
        .when(proof({ amount: '1e3' }))
        .thenThrows('VALIDATION_ERROR');
      spec
        .given(solanaPending())
        .when(proof({ ...SOL_TRANSFER, chainId: 1 }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_chain_id' });
      spec
        .given(solanaPending())
        .when(proof({ ...SOL_TRANSFER, txHash: TX }))
        .thenThrows('VALIDATION_ERROR');
    });

    it('step 7: refuses a chainId other than the record’s (chain_mismatch)', () =>
      spec
        .given(pending())
        .when(proof({ chainId: 1 }))
        .thenThrows('VALIDATION_ERROR', { reason: 'chain_mismatch' }));

    it('step 7: amount — at most tokenDecimals fractional digits (amount_precision), at least the expected amount (amount_below_expected)', () => {
      spec
        .given(pending())
        .when(proof({ amount: '0.5000001' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'amount_precision' });
      spec
        .given(pending())
        .when(proof({ amount: '0.499999' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'amount_below_expected' });
      spec
        .given(pending())
        .when(proof({ amount: '0.500000' }))
        .then([e.proofRecorded(storedProof({ amount: '0.500000' })), e.ready('payment_pending')]);
    });

    it('step 7: the payee must be payTo (recipient_mismatch), the payer the recorded payerAddress (payer_mismatch)', () => {
      spec
        .given(pending())
        .when(proof({ toAddress: PAYER }))
        .thenThrows('VALIDATION_ERROR', { reason: 'recipient_mismatch' });
      spec
        .given(history(create(), intent({ payerAddress: PAYER })))
        .when(proof({ fromAddress: PAYEE }))
        .thenThrows('VALIDATION_ERROR', { reason: 'payer_mismatch' });
      spec
        .given(solanaPending())
        .when(proof({ ...SOL_TRANSFER, toAddress: SOL_PAYER }))
        .thenThrows('VALIDATION_ERROR', { reason: 'recipient_mismatch' });
    });

    it('step 7: rpc needs a tokenAddress (token_address_required)', () => {
      const onBase = history(create({ service: WALLET }), intent({ chainId: 8453 }));
      spec
        .given(onBase)
        .when(proof({ verificationMode: 'rpc' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'token_address_required' });
    });

    it('checks in the spec’s order: network before mode before fields before amounts', () => {
      spec
        .given(pending())
        .when(proof({ network: 'solana', verificationMode: 'rpc', amount: '0' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'network_mismatch' });
      spec
        .given(solanaPending())
        .when({ type: 'record_payment_proof', orderId: ORD, proof: { verificationMode: 'rpc' } })
        .thenThrows('VALIDATION_ERROR', { reason: 'rpc_not_supported_for_solana' });
      spec
        .given(pending())
        .when(proof({ chainId: 1, amount: '0.1' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'chain_mismatch' });
    });

    it('step 8: a transaction backing another order → PAYMENT_PROOF_REUSED { orderId, txHash }; this order’s own reservation is no reuse', () => {
      spec
        .given(pending())
        .when(proof({}, { reuse: { orderId: 'ord_other', txHash: TX } }))
        .thenThrows('PAYMENT_PROOF_REUSED', { orderId: 'ord_other', txHash: TX });
      spec
        .given(pending())
        .when(proof({}, { reuse: { orderId: ORD, txHash: TX } }))
        .then([e.proofRecorded(), e.ready('payment_pending')]);
    });

    it('exposes the reuse keys: (evm, chainId, txHash), (solana, txHash) and the header fingerprint', () => {
      expect(preparePaymentProof(stateOf(pending()), TRANSFER, SETTINGS)).toMatchObject({
        txKey: { network: 'evm', chainId: 3338, txHash: TX },
        fingerprint: null,
      });
      expect(preparePaymentProof(stateOf(solanaPending()), SOL_TRANSFER, SETTINGS)).toMatchObject({
        txKey: { network: 'solana', txHash: SOL_TX },
      });
      expect(preparePaymentProof(stateOf(x402Pending()), { paymentHeaders: X402_FACTS }, SETTINGS)).toMatchObject({
        txKey: null,
        fingerprint: X402_FACTS.fingerprint,
      });
    });

    it('steps 9–10: an rpc proof records blockNumber and confirmations; a wallet payment becomes wdk-usdt-transfer', () => {
      const walletPending = history(create({ service: WALLET }), intent());
      spec
        .given(walletPending)
        .when(proof({ verificationMode: 'rpc' }, { rpcVerification: { blockNumber: 120, confirmations: 3 } }))
        .then([
          e.proofRecorded(storedProof({ verificationMode: 'rpc', blockNumber: 120, confirmations: 3 }), { type: 'wdk-usdt-transfer' }),
          e.ready('payment_pending'),
        ]);
      spec
        .given(walletPending)
        .when(proof({ verificationMode: 'rpc' }, { rpcVerification: { blockNumber: 1, confirmations: 1 } }))
        .thenState(
          (s) => s.kind === 'live' && s.payment?.type === 'wdk-usdt-transfer' && s.payment.status === 'held' && s.payment.heldAt === NOW,
        );
      expect(() =>
        marketOrderDecider.decide(proof({ verificationMode: 'rpc' }), stateOf(walletPending), { now: NOW, settings: SETTINGS }),
      ).toThrow(TypeError);
    });

    it('step 10: a header proof stores only the fingerprint, never the headers', () => {
      const events = marketOrderDecider.decide(
        { type: 'record_payment_proof', orderId: ORD, proof: { paymentHeaders: X402_FACTS } },
        stateOf(x402Pending()),
        { now: NOW, settings: SETTINGS },
      );
      expect(events).toEqual([
        e.proofRecorded({
          ...storedProof({
            txHash: null,
            chainId: 8453,
            tokenAddress: null,
            tokenDecimals: 6,
            amount: null,
            fromAddress: null,
            toAddress: null,
          }),
          paymentHeadersFingerprint: X402_FACTS.fingerprint,
        }),
        e.ready('payment_pending'),
      ]);
      expect(JSON.stringify(events)).not.toContain(X402_HEADERS.xPayment);
    });

    it('step 10: a Solana proof is recorded with its base58 values', () =>
      spec
        .given(solanaPending())
        .when(proof(SOL_TRANSFER))
        .then([
          e.proofRecorded(
            storedProof({
              network: 'solana',
              txHash: SOL_TX,
              chainId: null,
              tokenAddress: null,
              tokenDecimals: null,
              fromAddress: SOL_PAYER,
              toAddress: SOL_PAYEE,
            }),
          ),
          e.ready('payment_pending'),
        ]));

    it('step 10: after an execution reverted to payment_pending, a proof moves the order to ready', () =>
      spec
        .given(history(create(), start(), intent(), RETRY))
        .when(proof())
        .thenState((s) => s.kind === 'live' && s.order.status === 'ready'));
  });

  // -------------------------------------------------------------------------------------------------
  // payment/escrow-lock (§7.5.7)
  // -------------------------------------------------------------------------------------------------

  describe('payment/escrow-lock (§7.5.7)', () => {
    const ONCHAIN = service({
      payment: { defaultRail: 'onchain-escrow', required: true, supportedRails: ['onchain-escrow'], payTo: PAYEE, network: 'peaq' },
    });
    const WALLET = service({ payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], network: 'peaq' } });

    it('steps 2–4: ORDER_CLOSED, payment_intent_missing, then rail_mismatch for non-escrow rails', () => {
      spec.given(H.cancelled()).when(lock()).thenThrows('ORDER_CLOSED');
      spec.given(H.created()).when(lock()).thenThrows('STATE_CONFLICT', { reason: 'payment_intent_missing' });
      spec
        .given(history(create({ service: WALLET }), intent()))
        .when(lock())
        .thenThrows('VALIDATION_ERROR', { reason: 'rail_mismatch' });
    });

    it('step 5: held → unchanged; another status → payment_not_pending', () => {
      spec
        .given(H.ready())
        .when(lock({ txHash: TX }))
        .then([]);
      spec
        .given(history(create(), intent(), proof(), start(), DELIVER, REFUND))
        .when(lock())
        .thenThrows('STATE_CONFLICT', { status: 'refunded', reason: 'payment_not_pending' });
    });

    it('step 6: onchain-escrow needs txHash and escrowAddress; formats; amount at least the expected one', () => {
      const pending = history(create({ service: ONCHAIN }), intent());
      const error = decideError(pending, lock({ txHash: undefined }));
      expect((error.details?.errors as Array<{ path: string }>).map((i) => i.path)).toEqual(['/txHash', '/escrowAddress']);
      spec
        .given(pending)
        .when(lock({ escrowAddress: '0x1' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_address' });
      spec
        .given(pending)
        .when(lock({ txHash: 'x', escrowAddress: ESCROW }))
        .thenThrows('VALIDATION_ERROR');
      spec
        .given(pending)
        .when(lock({ escrowAddress: ESCROW, amount: '0.4' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'amount_below_expected' });
    });

    it('step 7: a txHash backing another order → PAYMENT_PROOF_REUSED', () =>
      spec
        .given(H.payment_pending())
        .when(lock({}, { reuse: { orderId: 'ord_other', txHash: TX2 } }))
        .thenThrows('PAYMENT_PROOF_REUSED', { orderId: 'ord_other', txHash: TX2 }));

    it('step 8: records the lock (escrowAddress EIP-55, chainId defaulted), payment → held, order → ready', () => {
      const pending = history(create({ service: ONCHAIN }), intent());
      spec
        .given(pending)
        .when(lock({ escrowAddress: ESCROW.toLowerCase(), amount: '0.5' }))
        .then([
          {
            type: 'market_payment.escrow_locked',
            data: {
              paymentId: PAY,
              from: 'intent_created',
              to: 'held',
              escrow: { txHash: TX2, escrowAddress: ESCROW, chainId: 3338, amount: '0.5', lockedAt: NOW },
              heldAt: NOW,
              at: NOW,
            },
          },
          e.ready('payment_pending'),
        ]);
    });

    it('an escrow lock needs no field on the plain escrow rail', () =>
      spec
        .given(H.payment_pending())
        .when({ type: 'lock_escrow', orderId: ORD, escrow: {} })
        .thenState((s) => s.kind === 'live' && s.payment?.escrow?.txHash === null));
  });

  // -------------------------------------------------------------------------------------------------
  // payment/release and payment/refund (§7.5.8, §7.5.9)
  // -------------------------------------------------------------------------------------------------

  describe('payment/release (§7.5.8)', () => {
    it('needs a confirmed order, checked first (ORDER_NOT_DELIVERED, also for other terminal orders)', () => {
      spec.given(H.created()).when(RELEASE).thenThrows('ORDER_NOT_DELIVERED', { orderId: ORD, status: 'created' });
      spec.given(H.disputed()).when(RELEASE).thenThrows('ORDER_NOT_DELIVERED', { status: 'disputed' });
    });

    it('a confirmed order without payment record → payment_intent_missing', () =>
      spec
        .given(history(create(), start(), DELIVER, CONFIRM))
        .when(RELEASE)
        .thenThrows('STATE_CONFLICT', { entityType: 'market-order', reason: 'payment_intent_missing' }));

    it('a confirmed order whose payment is not release_pending → payment_not_release_pending', () =>
      spec
        .given(history(create(), intent(), start(), DELIVER, CONFIRM))
        .when(RELEASE)
        .thenThrows('STATE_CONFLICT', {
          entityType: 'market-payment',
          id: PAY,
          status: 'intent_created',
          reason: 'payment_not_release_pending',
          allowed: ['release_pending'],
        }));

    it('releases, and a second release is idempotent; the order stays confirmed', () => {
      spec
        .given(H.confirmed())
        .when(RELEASE)
        .thenState(
          (s) => s.kind === 'live' && s.order.status === 'confirmed' && s.payment?.status === 'released' && s.payment.releasedAt === NOW,
        );
      spec
        .given(history(create(), intent(), proof(), start(), DELIVER, CONFIRM, RELEASE))
        .when(RELEASE)
        .then([]);
    });
  });

  describe('payment/refund (§7.5.9)', () => {
    it('no record → payment_intent_missing; refunded → unchanged', () => {
      spec.given(H.created()).when(REFUND).thenThrows('STATE_CONFLICT', { reason: 'payment_intent_missing' });
      spec
        .given(history(create(), intent(), proof(), REFUND))
        .when(REFUND)
        .then([]);
    });

    it('records refundedAt and the reason (null without one)', () => {
      spec
        .given(H.ready())
        .when({ type: 'refund_payment', orderId: ORD })
        .then([e.refunded('held', null)]);
      spec
        .given(H.ready())
        .when(REFUND)
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.payment?.refundReason === 'returned off-chain' &&
            s.payment.refundedAt === NOW &&
            s.order.status === 'ready',
        );
    });

    it('a not_required payment is not refundable', () => {
      const free = service({ payment: { defaultRail: 'not-required', required: false, supportedRails: [] } });
      spec
        .given(history(create({ service: free }), intent()))
        .when(REFUND)
        .thenThrows('STATE_CONFLICT', { status: 'not_required', reason: 'payment_not_refundable' });
    });
  });

  // -------------------------------------------------------------------------------------------------
  // execute (§7.5.10)
  // -------------------------------------------------------------------------------------------------

  describe('execute: start (§7.5.10 steps 2–8)', () => {
    it('step 3: validates input ?? the order’s input against the operation contract (input_invalid)', () => {
      spec
        .given(H.ready())
        .when(start({ input: { symbol: 1 } }))
        .thenThrows('VALIDATION_ERROR', {
          reason: 'input_invalid',
          errors: [{ location: 'body', path: '/input/symbol', message: expect.any(String) }],
        });
      spec
        .given(H.ready())
        .when(start())
        .then([e.started('ready')]);
    });

    it('step 3: the execution input replaces the stored one, redacted', () =>
      spec
        .given(H.ready())
        .when(start({ input: { symbol: 'ETH', apiKey: 'secret' } }))
        .then([e.started('ready', { symbol: 'ETH', apiKey: '[REDACTED]' })]));

    it('step 4: a policy denial → AGENT_POLICY_DENIED with its details, after the input', () => {
      const policyDenial = { source: 'machinePolicy' as const, policyId: 'pol_1', reason: 'provider_denied' };
      spec.given(H.ready()).when(start({ policyDenial })).thenThrows('AGENT_POLICY_DENIED', policyDenial);
      spec
        .given(H.ready())
        .when(start({ policyDenial, input: {} }))
        .thenThrows('VALIDATION_ERROR', { reason: 'input_invalid' });
    });

    it('step 5: PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE needs held/release_pending/released/not_required (payment_not_held)', () => {
      const required = { settings: { ...SETTINGS, requirePaymentBeforeExecute: true } };
      spec
        .given(H.payment_pending())
        .when(start(), required)
        .thenThrows('PAYMENT_REQUIRED', { reason: 'payment_not_held', paymentStatus: 'intent_created' });
      spec.given(H.created()).when(start(), required).thenThrows('PAYMENT_REQUIRED', { reason: 'payment_not_held', paymentStatus: null });
      spec
        .given(H.ready())
        .when(start(), required)
        .then([e.started('ready')]);
      spec
        .given(history(create(), intent(), proof(), REFUND))
        .when(start(), required)
        .thenThrows('PAYMENT_REQUIRED', { paymentStatus: 'refunded' });
      const optional = service({ payment: { defaultRail: 'wallet', required: false, supportedRails: [] } });
      spec
        .given(history(create({ service: optional })))
        .when(start(), required)
        .then([e.started('created')]);
      spec
        .given(H.payment_pending())
        .when(start())
        .then([e.started('payment_pending')]);
    });

    describe('x402', () => {
      const X402 = service({ payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], payTo: PAYEE, network: 'base' } });
      const x402Pending = () => history(create({ service: X402 }), intent({ challenge: CHALLENGE }));

      it('step 5: a required x402 payment without record → PAYMENT_REQUIRED payment_intent_missing', () =>
        spec
          .given(history(create({ service: X402 })))
          .when(start())
          .thenThrows('PAYMENT_REQUIRED', { reason: 'payment_intent_missing', paymentStatus: null }));

      it('step 5: the payment header is required, and the error carries the stored challenge', () => {
        const error = decideError(x402Pending(), start());
        expect([error.code, error.details]).toEqual([
          'PAYMENT_REQUIRED',
          { reason: 'payment_header_required', paymentStatus: 'intent_created', challenge: CHALLENGE },
        ]);
        spec
          .given(x402Pending())
          .when(start({ paymentHeaders: paymentHeadersFacts({ authorization: 'a' }) }))
          .thenThrows('PAYMENT_REQUIRED', { reason: 'payment_header_required' });
      });

      it('step 5: after a header proof the headers must have the same fingerprint (payment_header_mismatch)', () => {
        const held = history(create({ service: X402 }), intent({ challenge: CHALLENGE }), headerProof());
        spec
          .given(held)
          .when(start({ paymentHeaders: paymentHeadersFacts({ xPayment: 'other' }) }))
          .thenThrows('VALIDATION_ERROR', { reason: 'payment_header_mismatch' });
        spec
          .given(held)
          .when(start({ paymentHeaders: X402_FACTS, headerReuse: { orderId: 'ord_other' } }))
          .then([e.started('ready')]);
      });

      it('step 5: without a proof the fingerprint must not back another order (PAYMENT_PROOF_REUSED)', () => {
        spec
          .given(x402Pending())
          .when(start({ paymentHeaders: X402_FACTS, headerReuse: { orderId: 'ord_other' } }))
          .thenThrows('PAYMENT_PROOF_REUSED', { orderId: 'ord_other' });
        spec
          .given(x402Pending())
          .when(start({ paymentHeaders: X402_FACTS }))
          .then([e.started('payment_pending')]);
      });
    });

    it('step 6: missing provider credentials (native only) → provider_credentials_required, one error per field', () => {
      const error = decideError(H.ready(), start({ missingCredentials: ['apiKey', 'region'] }));
      expect([error.code, error.details]).toEqual([
        'VALIDATION_ERROR',
        {
          reason: 'provider_credentials_required',
          errors: [
            { location: 'body', path: '/providerCredentials/acme/apiKey', message: 'providerCredentials.acme.apiKey is required' },
            { location: 'body', path: '/providerCredentials/acme/region', message: 'providerCredentials.acme.region is required' },
          ],
        },
      ]);
      const handoff = service({ executionMode: 'external-handoff' });
      spec
        .given(history(create({ service: handoff })))
        .when(start({ missingCredentials: ['apiKey'] }))
        .then([e.started('created')]);
    });

    it('step 7: no usable route → ROUTE_REQUIRED { providerKey, reason }, after the credentials', () => {
      spec
        .given(H.ready())
        .when(start({ route: { kind: 'none', reason: 'runtime_endpoint_required' } }))
        .thenThrows('ROUTE_REQUIRED', { providerKey: 'acme', reason: 'runtime_endpoint_required' });
      spec
        .given(H.ready())
        .when(start({ missingCredentials: ['k'], route: { kind: 'none', reason: 'x' } }))
        .thenThrows('VALIDATION_ERROR');
    });

    it('step 8: records the task, route and run on the order', () =>
      spec
        .given(H.ready())
        .when(start())
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.order.status === 'executing' &&
            s.order.taskId === 'task_1' &&
            s.order.routeId === 'route_1' &&
            s.order.runId === 'run_1' &&
            s.resumeStatus === 'ready',
        ));
  });

  describe('execute: result (§7.5.10 step 9)', () => {
    it('native success: delivered with deliveredAt, latest route/run/outcome, errorMessage reset', () =>
      spec
        .given(history(create(), intent(), proof(), start(), RETRY, start()))
        .when(DELIVER)
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.order.status === 'delivered' &&
            s.order.deliveredAt === NOW &&
            s.order.errorMessage === null &&
            s.order.outcomeId === 'out_1' &&
            s.order.runId === 'run_2',
        ));

    it('handoff: the order records the handoff', () =>
      spec
        .given(H.executing())
        .when(HAND_OFF)
        .thenState((s) => s.kind === 'live' && s.order.status === 'handoff' && s.order.handoff?.url === HANDOFF.url));

    it('non-retryable failure: failed with errorMessage; a held payment can then be refunded', () => {
      spec
        .given(H.executing())
        .when(FAIL)
        .thenState(
          (s) =>
            s.kind === 'live' && s.order.status === 'failed' && s.order.errorMessage === 'HTTP 500: boom' && s.order.outcomeId === 'out_1',
        );
      spec
        .given(H.failed())
        .when(REFUND)
        .then([e.refunded('held')]);
    });

    it('retryable failure: back to the status before the execution, with errorMessage', () => {
      spec
        .given(history(create(), start()))
        .when(RETRY)
        .then([e.reverted('created')]);
      spec
        .given(history(create(), intent(), start()))
        .when(RETRY)
        .then([e.reverted('payment_pending')]);
      spec
        .given(H.executing())
        .when(RETRY)
        .thenState(
          (s) => s.kind === 'live' && s.order.status === 'ready' && s.order.errorMessage === 'HTTP 503: busy' && s.resumeStatus === null,
        );
    });

    it('retryable failure: payment triggers accepted during the execution count for the status it returns to', () => {
      spec
        .given(history(create(), start(), intent()))
        .when(RETRY)
        .then([e.reverted('payment_pending')]);
      spec
        .given(history(create(), intent(), start(), proof()))
        .when(RETRY)
        .then([e.reverted('ready')]);
      spec
        .given(history(create(), intent(), start(), lock()))
        .when(RETRY)
        .then([e.reverted('ready')]);
      const free = service({ payment: { defaultRail: 'not-required', required: false, supportedRails: [] } });
      spec
        .given(history(create({ service: free }), start(), intent()))
        .when(RETRY)
        .then([e.reverted('ready')]);
    });

    it('an outcome for an order that is not executing → STATE_CONFLICT execution_not_in_progress', () =>
      spec
        .given(H.delivered())
        .when(DELIVER)
        .thenThrows('STATE_CONFLICT', { reason: 'execution_not_in_progress', allowed: ['executing'] }));

    describe('x402', () => {
      const X402 = service({ payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], payTo: PAYEE, network: 'base' } });
      const SETTLED = { txHash: '0x' + 'cc'.repeat(32), network: 'base' };
      const deliver = finish({ kind: 'delivered', outcomeId: 'out_1', settlement: SETTLED }, { paymentHeaders: X402_FACTS });

      it('without an earlier proof: implicit header proof, auto-confirmation, release_pending, released with the settlement', () => {
        const executing = history(create({ service: X402 }), intent({ challenge: CHALLENGE }), start({ paymentHeaders: X402_FACTS }));
        spec
          .given(executing)
          .when(deliver)
          .then([
            e.delivered(),
            e.proofRecorded(
              {
                ...storedProof({
                  chainId: null,
                  txHash: null,
                  tokenAddress: null,
                  tokenDecimals: null,
                  amount: null,
                  fromAddress: null,
                  toAddress: null,
                }),
                paymentHeadersFingerprint: X402_FACTS.fingerprint,
              },
              { implicit: true },
            ),
            e.confirmed('delivered', true),
            e.releasePending(),
            e.released(SETTLED),
          ]);
        spec
          .given(executing)
          .when(deliver)
          .thenState(
            (s) =>
              s.kind === 'live' &&
              s.order.status === 'confirmed' &&
              s.payment?.status === 'released' &&
              s.payment.proof?.settlement?.txHash === SETTLED.txHash,
          );
      });

      it('with an earlier header proof: auto-confirmation and release, keeping the proof', () => {
        const executing = history(
          create({ service: X402 }),
          intent({ challenge: CHALLENGE }),
          headerProof(),
          start({ paymentHeaders: X402_FACTS }),
        );
        spec
          .given(executing)
          .when(deliver)
          .then([e.delivered(), e.confirmed('delivered', true), e.releasePending(), e.released(SETTLED)]);
      });

      it('an auto-confirmed x402 order is closed: confirm → ORDER_CLOSED', () => {
        const done = history(create({ service: X402 }), intent({ challenge: CHALLENGE }), start({ paymentHeaders: X402_FACTS }), deliver);
        spec.given(done).when(CONFIRM).thenThrows('ORDER_CLOSED', { orderId: ORD, status: 'confirmed' });
      });

      it('a refunded x402 payment stays refunded; the order is still auto-confirmed', () => {
        const executing = history(
          create({ service: X402 }),
          intent({ challenge: CHALLENGE }),
          headerProof(),
          REFUND,
          start({ paymentHeaders: X402_FACTS }),
        );
        spec
          .given(executing)
          .when(deliver)
          .then([e.delivered(), e.confirmed('delivered', true)]);
      });

      it('a provider 402 (retryable): the order reverts and the new challenge replaces payment.challenge', () => {
        const executing = history(
          create({ service: X402 }),
          intent({ challenge: { ...CHALLENGE, fetchedAt: 'old' } }),
          start({ paymentHeaders: X402_FACTS }),
        );
        spec
          .given(executing)
          .when(finish({ kind: 'retryable_failure', errorMessage: 'HTTP 503: busy', challenge: CHALLENGE }))
          .then([e.reverted('payment_pending'), e.challengeRefreshed()]);
      });

      it('a non-x402 payment ignores a challenge in the result', () =>
        spec
          .given(H.executing())
          .when(finish({ kind: 'retryable_failure', errorMessage: 'HTTP 503: busy', challenge: CHALLENGE }))
          .then([e.reverted('ready')]));
    });
  });

  // -------------------------------------------------------------------------------------------------
  // confirm, dispute, cancel, forced revocation (§7.5.11–§7.5.13, §5.8.7)
  // -------------------------------------------------------------------------------------------------

  describe('confirm (§7.5.11)', () => {
    it('terminal → ORDER_CLOSED before ORDER_NOT_DELIVERED', () => {
      spec.given(H.cancelled()).when(CONFIRM).thenThrows('ORDER_CLOSED', { orderId: ORD, status: 'cancelled' });
      spec.given(H.ready()).when(CONFIRM).thenThrows('ORDER_NOT_DELIVERED', { orderId: ORD, status: 'ready' });
    });

    it('does not require a payment: no record, or one still intent_created, is left as it is', () => {
      spec
        .given(history(create(), start(), DELIVER))
        .when(CONFIRM)
        .then([e.confirmed('delivered')]);
      spec
        .given(history(create(), intent(), start(), HAND_OFF))
        .when(CONFIRM)
        .then([e.confirmed('handoff')]);
    });

    it('sets confirmedAt and moves a held payment to release_pending (releasePendingAt)', () =>
      spec
        .given(H.delivered())
        .when(CONFIRM)
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.order.confirmedAt === NOW &&
            s.payment?.status === 'release_pending' &&
            s.payment.releasePendingAt === NOW,
        ));

    it('concurrent confirm and dispute cannot both win: the second finds the order closed', () => {
      spec
        .given(H.delivered())
        .when(DISPUTE)
        .then([e.disputed('delivered'), e.frozen()]);
      spec.given(H.confirmed()).when(DISPUTE).thenThrows('ORDER_CLOSED', { status: 'confirmed' });
      spec.given(H.disputed()).when(CONFIRM).thenThrows('ORDER_CLOSED', { status: 'disputed' });
    });
  });

  describe('dispute (§7.5.12)', () => {
    it('terminal → ORDER_CLOSED; not delivered/handoff → ORDER_NOT_DELIVERED', () => {
      spec.given(H.failed()).when(DISPUTE).thenThrows('ORDER_CLOSED');
      spec.given(H.executing()).when(DISPUTE).thenThrows('ORDER_NOT_DELIVERED', { status: 'executing' });
    });

    it('records the dispute with redacted evidence (null without evidence) and freezes a held payment', () => {
      spec
        .given(H.delivered())
        .when(DISPUTE)
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.order.disputedAt === NOW &&
            s.order.dispute?.evidence?.apiKey === '[REDACTED]' &&
            s.payment?.status === 'frozen' &&
            s.payment.frozenAt === NOW,
        );
      spec
        .given(history(create(), start(), HAND_OFF))
        .when({ type: 'dispute', orderId: ORD, reason: 'no show' })
        .thenState((s) => s.kind === 'live' && s.order.dispute?.evidence === null);
    });

    it('a frozen payment can only be refunded', () => {
      spec.given(H.disputed()).when(RELEASE).thenThrows('ORDER_NOT_DELIVERED');
      spec
        .given(H.disputed())
        .when(REFUND)
        .then([e.refunded('frozen')]);
    });
  });

  describe('cancel (§7.5.13)', () => {
    it('refuses executing and delivered orders with order_not_cancellable and the allowed statuses', () => {
      expect(decideError(H.delivered(), CANCEL).details).toEqual({
        entityType: 'market-order',
        id: ORD,
        status: 'delivered',
        reason: 'order_not_cancellable',
        allowed: ['created', 'payment_pending', 'ready', 'handoff'],
      });
    });

    it('records cancelledAt and cancelReason (null without a reason) and leaves the payment as it is', () => {
      spec
        .given(H.ready())
        .when({ type: 'cancel', orderId: ORD })
        .then([e.cancelled('ready', null)]);
      spec
        .given(H.ready())
        .when(CANCEL)
        .thenState(
          (s) =>
            s.kind === 'live' && s.order.cancelledAt === NOW && s.order.cancelReason === 'changed my mind' && s.payment?.status === 'held',
        );
    });
  });

  describe('forced pairing revocation (§5.8.7)', () => {
    it('cancels with cancelReason "pairing_revoked", from delivered too', () =>
      spec
        .given(H.delivered())
        .when(REVOKE)
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.order.status === 'cancelled' &&
            s.order.cancelReason === 'pairing_revoked' &&
            s.payment?.status === 'held',
        ));

    it('an order that started executing since the revocation read it decides nothing (no longer cancellable)', () => {
      spec.given(H.executing()).when(REVOKE).then([]);
      spec
        .given(H.executing())
        .when(REVOKE)
        .thenState((s) => s.kind === 'live' && s.order.status === 'executing' && s.order.cancelReason === null);
    });

    it('an order that closed since decides nothing either, whatever closed it', () => {
      for (const closed of [H.confirmed, H.disputed, H.cancelled, H.failed]) spec.given(closed()).when(REVOKE).then([]);
    });
  });

  // -------------------------------------------------------------------------------------------------
  // Records, stream, audit entities
  // -------------------------------------------------------------------------------------------------

  describe('records', () => {
    it('the whole lifecycle folds into the records the API returns', () => {
      const { order, payment } = stateOf(history(create(), intent({ payerAddress: PAYER }), proof(), start(), DELIVER, CONFIRM, RELEASE));
      expect(order).toMatchObject({
        status: 'confirmed',
        paymentId: PAY,
        taskId: 'task_1',
        routeId: 'route_2',
        runId: 'run_2',
        outcomeId: 'out_1',
        deliveredAt: T0,
        confirmedAt: T0,
        updatedAt: T0,
      });
      expect(payment).toEqual(
        escrowRecord({
          status: 'released',
          payerAddress: PAYER,
          proof: storedProof({ recordedAt: T0 }),
          heldAt: T0,
          releasePendingAt: T0,
          releasedAt: T0,
          createdAt: T0,
          updatedAt: T0,
        }),
      );
    });

    it('applyMarketOrderEvent ignores payment events before the record exists', () => {
      const { order } = stateOf(H.created());
      expect(applyMarketOrderEvent({ order, payment: null }, e.released())).toEqual({ order, payment: null });
    });

    it('events never carry raw payment headers or secret-named input', () => {
      const events = history(
        create({ input: { symbol: 'BTC', authorization: 'Bearer top' } }),
        intent(),
        proof({ paymentHeaders: paymentHeadersFacts({ paymentSignature: 'sig-123', authorization: 'Bearer top' }) }),
        start({ input: { symbol: 'BTC', privateKey: '0xdead' } }),
      );
      const text = JSON.stringify(events);
      for (const secret of ['Bearer top', 'sig-123', '0xdead']) expect(text).not.toContain(secret);
    });

    it('stream and audit entities (§8.7.2)', () => {
      expect(marketOrderStream(ORD, MACH)).toEqual({
        streamId: `market-order-${ORD}`,
        entityType: 'market-order',
        entityId: ORD,
        machineId: MACH,
      });
      const events = history(create(), intent(), proof(), start(), DELIVER, CONFIRM);
      expect(events.map((event) => [event.type, marketOrderEventEntity(ORD, event)])).toEqual([
        ['market_order.created', { entityType: 'market-order', entityId: ORD }],
        ['market_payment.intent_created', { entityType: 'market-payment', entityId: PAY }],
        ['market_order.payment_pending', { entityType: 'market-order', entityId: ORD }],
        ['market_payment.proof_recorded', { entityType: 'market-payment', entityId: PAY }],
        ['market_order.ready', { entityType: 'market-order', entityId: ORD }],
        ['market_order.execution_started', { entityType: 'market-order', entityId: ORD }],
        ['market_order.delivered', { entityType: 'market-order', entityId: ORD }],
        ['market_order.confirmed', { entityType: 'market-order', entityId: ORD }],
        ['market_payment.release_pending', { entityType: 'market-payment', entityId: PAY }],
      ]);
    });
  });
});
