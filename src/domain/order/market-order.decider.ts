import { ExternalHandoff, MarketPaymentRailType } from '../catalog/catalog-types';
import { DecideContext, Decider } from '../shared/decider';
import { DomainError, ErrorDetails, notFound, stateConflict, validationError } from '../shared/domain-error';
import { redactSecrets } from '../shared/redaction';
import {
  MarketEscrowLock,
  MarketOrderDispute,
  MarketOrderRecord,
  MarketPaymentChallenge,
  MarketPaymentProof,
  MarketPaymentRecord,
  OrderPaymentSettings,
  OrderRecords,
  PaymentSettlement,
} from './market-order-types';
import { CreateMarketOrder, resolveOrderCreation } from './order-creation';
import {
  assertOrderOpen,
  invalidBody,
  orderConflict,
  orderNotDelivered,
  PaymentReuse,
  paymentConflict,
  paymentProofReused,
  paymentRequired,
  requirePayment,
} from './order-errors';
import {
  isPreExecutionOrderStatus,
  MarketOrderStatus,
  orderStatusesAllowing,
  orderTransition,
  OrderTrigger,
  PreExecutionOrderStatus,
} from './order-status';
import { contractFor, operationInputIssues } from './operation-input';
import { MarketPaymentStatus, paymentTransition, PaymentTrigger } from './payment-status';
import { PaymentHeadersFacts } from './payment-headers';
import { CreatePaymentIntent, planPaymentIntent } from './payment-intent';
import { EscrowLockRequest, PaymentProofRequest, prepareEscrowLock, preparePaymentProof } from './payment-proof';

export type { CreateMarketOrder } from './order-creation';
export type { CreatePaymentIntent } from './payment-intent';

// ---------------------------------------------------------------------------------------------------
// Events (§8.7.2): one stream `market-order-{ord}` holds the order (entity `market-order`) and its
// payment record (entity `market-payment`). Creation events carry the record as the API returns it;
// transition events carry `{ from, to }` plus the fields the transition sets (§8.7.1). Raw payment
// headers never appear, only their fingerprint (§9).
// ---------------------------------------------------------------------------------------------------

type Transition<F, T> = { from: F; to: T; at: string };
type PaymentTransitionData<F, T> = Transition<F, T> & { paymentId: string };

export type MarketOrderEvent =
  | { type: 'market_order.created'; data: MarketOrderRecord }
  | { type: 'market_order.payment_pending'; data: Transition<'created', 'payment_pending'> }
  | { type: 'market_order.ready'; data: Transition<'created' | 'payment_pending', 'ready'> }
  | {
      type: 'market_order.execution_started';
      data: Transition<PreExecutionOrderStatus, 'executing'> & {
        /** The input of this execution, redacted (§9). */
        input: Record<string, unknown>;
        taskId: string;
        routeId: string;
        runId: string;
      };
    }
  | {
      type: 'market_order.execution_reverted';
      data: Transition<'executing', PreExecutionOrderStatus> & { routeId: string; runId: string; errorMessage: string };
    }
  | {
      type: 'market_order.delivered';
      data: Transition<'executing', 'delivered'> & {
        routeId: string;
        runId: string;
        outcomeId: string;
        errorMessage: null;
        deliveredAt: string;
      };
    }
  | {
      type: 'market_order.handed_off';
      data: Transition<'executing', 'handoff'> & {
        handoff: ExternalHandoff;
        routeId: string;
        runId: string;
        outcomeId: string;
        errorMessage: null;
      };
    }
  | {
      type: 'market_order.failed';
      data: Transition<'executing', 'failed'> & {
        routeId: string;
        runId: string;
        outcomeId: string;
        errorMessage: string;
        providerStatus: number | null;
      };
    }
  | {
      type: 'market_order.confirmed';
      /** `automatic`: the x402 auto-confirmation at the end of `execute` (§7.5.10). */
      data: Transition<'delivered' | 'handoff', 'confirmed'> & { automatic: boolean; confirmedAt: string };
    }
  | {
      type: 'market_order.disputed';
      data: Transition<'delivered' | 'handoff', 'disputed'> & { dispute: MarketOrderDispute; disputedAt: string };
    }
  | {
      type: 'market_order.cancelled';
      data: Transition<MarketOrderStatus, 'cancelled'> & { cancelReason: string | null; cancelledAt: string };
    }
  /** The record as created; its `status` is the initial one (`intent_created` or `not_required`). */
  | { type: 'market_payment.intent_created'; data: MarketPaymentRecord }
  | { type: 'market_payment.challenge_refreshed'; data: { paymentId: string; changes: { challenge: MarketPaymentChallenge }; at: string } }
  | {
      type: 'market_payment.proof_recorded';
      data: PaymentTransitionData<'intent_created', 'held'> & {
        proof: MarketPaymentProof;
        /** `true` for the implicit header proof of a successful x402 `execute`. */
        implicit: boolean;
        /** Present when the record's rail changes (an `rpc`-verified `wallet` payment becomes `wdk-usdt-transfer`). */
        type?: MarketPaymentRailType;
        heldAt: string;
      };
    }
  | {
      type: 'market_payment.escrow_locked';
      data: PaymentTransitionData<'intent_created', 'held'> & { escrow: MarketEscrowLock; heldAt: string };
    }
  | { type: 'market_payment.release_pending'; data: PaymentTransitionData<'held', 'release_pending'> & { releasePendingAt: string } }
  | {
      type: 'market_payment.released';
      /** `settlement`: present for x402, the settlement the provider reported (stored in `proof.settlement`). */
      data: PaymentTransitionData<'release_pending', 'released'> & { releasedAt: string; settlement?: PaymentSettlement | null };
    }
  | { type: 'market_payment.frozen'; data: PaymentTransitionData<'held' | 'release_pending', 'frozen'> & { frozenAt: string } }
  | {
      type: 'market_payment.refunded';
      data: PaymentTransitionData<'held' | 'frozen' | 'intent_created', 'refunded'> & { refundReason: string | null; refundedAt: string };
    };

// ---------------------------------------------------------------------------------------------------
// State and commands
// ---------------------------------------------------------------------------------------------------

export type MarketOrderState =
  | { kind: 'none' }
  | (OrderRecords & {
      kind: 'live';
      /**
       * While `executing`: the status a retryable failure returns the order to (§7.1) — the status before
       * the execution, advanced by the payment triggers accepted meanwhile. `null` otherwise.
       */
      resumeStatus: PreExecutionOrderStatus | null;
    });

/** `context.settings`: the payment configuration, passed in by the handler on every command. */
export type MarketOrderContext = DecideContext & { settings: OrderPaymentSettings };

/** `payment-proof` (§7.5.5) with the facts of steps 8 and 9, looked up by the handler. */
export type RecordPaymentProof = {
  type: 'record_payment_proof';
  orderId: string;
  proof: PaymentProofRequest;
  /** Step 8: the order the transaction or header fingerprint already backs, if any. */
  reuse?: PaymentReuse | null;
  /** Step 9 (`rpc` mode): the facts of the successful §7.6 verification. */
  rpcVerification?: { blockNumber: number; confirmations: number };
};

/** `payment/escrow-lock` (§7.5.7) with the reuse fact of step 7. */
export type LockEscrow = { type: 'lock_escrow'; orderId: string; escrow: EscrowLockRequest; reuse?: PaymentReuse | null };

/** The route step 7 of §7.5.10 resolved (with the ids step 8 records), or why there is none. */
export type ExecutionRoute = { kind: 'resolved'; taskId: string; routeId: string; runId: string } | { kind: 'none'; reason: string };

/** An `AGENT_POLICY_DENIED` of §7.3 steps 1–2, re-evaluated by the handler with the current policies. */
export type PolicyDenial = ErrorDetails & { source: 'delegationPolicy' | 'machinePolicy'; reason: string };

/** `execute` (§7.5.10) steps 2–8, with the facts the handler looked up. */
export type StartExecution = {
  type: 'start_execution';
  orderId: string;
  /** Replaces the order's input for this execution (unredacted; stored redacted). */
  input?: Record<string, unknown>;
  /** Step 4. */
  policyDenial?: PolicyDenial | null;
  /** Step 5: the facts of the request's `paymentHeaders`. */
  paymentHeaders?: PaymentHeadersFacts | null;
  /** Step 5 (x402 without a recorded proof): the order the header fingerprint already backs, if any. */
  headerReuse?: PaymentReuse | null;
  /** Step 6 (native execution): the required credential fields of the adapter that are missing or empty. */
  missingCredentials?: readonly string[];
  /** Steps 7–8. */
  route: ExecutionRoute;
};

/** §7.5.10 step 9: how the dispatch ended. */
export type ExecutionResult =
  | { kind: 'delivered'; outcomeId: string; settlement?: PaymentSettlement | null }
  | { kind: 'handoff'; outcomeId: string; handoff: ExternalHandoff }
  | { kind: 'failed'; outcomeId: string; errorMessage: string; providerStatus?: number | null }
  | {
      kind: 'retryable_failure';
      errorMessage: string;
      /** A provider `402` on an x402 payment: its new challenge, which replaces `payment.challenge`. */
      challenge?: MarketPaymentChallenge | null;
    };

export type FinishExecution = {
  type: 'finish_execution';
  orderId: string;
  /** The latest route and run of the dispatch. */
  routeId: string;
  runId: string;
  result: ExecutionResult;
  /** x402: the facts of the execute request's payment headers (the implicit header proof). */
  paymentHeaders?: PaymentHeadersFacts | null;
};

export type MarketOrderCommand =
  | CreateMarketOrder
  | CreatePaymentIntent
  | RecordPaymentProof
  | LockEscrow
  | { type: 'release_payment'; orderId: string }
  | { type: 'refund_payment'; orderId: string; reason?: string | null }
  | StartExecution
  | FinishExecution
  | { type: 'confirm'; orderId: string }
  | { type: 'dispute'; orderId: string; reason: string; evidence?: Record<string, unknown> | null }
  | { type: 'cancel'; orderId: string; reason?: string | null }
  /** Forced pairing revocation (§5.8.7): `cancelReason: "pairing_revoked"`. */
  | { type: 'cancel_for_pairing_revocation'; orderId: string };

const ENTITY = 'market-order';

// ---------------------------------------------------------------------------------------------------
// The decider
// ---------------------------------------------------------------------------------------------------

export const marketOrderDecider: Decider<MarketOrderCommand, MarketOrderState, MarketOrderEvent, MarketOrderContext> = {
  initialState: () => ({ kind: 'none' }),

  evolve(state, event) {
    if (event.type === 'market_order.created') {
      return state.kind === 'none' ? { kind: 'live', order: event.data, payment: null, resumeStatus: null } : state;
    }
    if (state.kind !== 'live') return state;
    const { order, payment } = applyMarketOrderEvent(state, event);
    return { kind: 'live', order, payment, resumeStatus: nextResumeStatus(state, event) };
  },

  decide(command, state, { now, settings }) {
    if (command.type === 'create') return create(command, state, now);
    if (state.kind === 'none') throw notFound(ENTITY, command.orderId);
    switch (command.type) {
      case 'create_payment_intent':
        return createPaymentIntent(command, state, settings, now);
      case 'record_payment_proof':
        return recordPaymentProof(command, state, settings, now);
      case 'lock_escrow':
        return lockEscrow(command, state, settings, now);
      case 'release_payment':
        return releasePayment(state, now);
      case 'refund_payment':
        return refundPayment(state, command.reason ?? null, now);
      case 'start_execution':
        return startExecution(command, state, settings, now);
      case 'finish_execution':
        return finishExecution(command, state, now);
      case 'confirm':
        return confirm(state, now);
      case 'dispute':
        return dispute(state, command.reason, command.evidence ?? null, now);
      case 'cancel':
        return cancel(state, command.reason ?? null, now);
      case 'cancel_for_pairing_revocation':
        return cancelForPairingRevocation(state, now);
    }
  },
};

type LiveState = Extract<MarketOrderState, { kind: 'live' }>;

/** §7.5.2 steps 5–8 and 10 (step 9 is the pairing's `register_order`). */
function create(command: CreateMarketOrder, state: MarketOrderState, now: string): MarketOrderEvent[] {
  if (state.kind !== 'none') {
    throw stateConflict(ENTITY, command.id, state.order.status, 'exists');
  }
  return [{ type: 'market_order.created', data: resolveOrderCreation(command, now).order }];
}

/** §7.5.4 steps 2–9. */
function createPaymentIntent(
  command: CreatePaymentIntent,
  state: LiveState,
  settings: OrderPaymentSettings,
  now: string,
): MarketOrderEvent[] {
  const plan = planPaymentIntent(state, command, settings, now);
  switch (plan.action) {
    case 'existing':
      return [];
    case 'refresh_challenge':
      return [
        {
          type: 'market_payment.challenge_refreshed',
          data: { paymentId: plan.payment.id, changes: { challenge: requireChallenge(command.challenge) }, at: now },
        },
      ];
    case 'create': {
      const record = plan.fetchChallenge ? { ...plan.record, challenge: requireChallenge(command.challenge) } : plan.record;
      const trigger = record.status === 'not_required' ? 'payment_intent_not_required' : 'payment_intent';
      assertPaymentTransition(null, trigger, record.status);
      return [{ type: 'market_payment.intent_created', data: record }, ...orderMoves(state.order, trigger, now)];
    }
  }
}

function requireChallenge(challenge: MarketPaymentChallenge | undefined): MarketPaymentChallenge {
  // Step 7 is the handler's: a decision without the fetched challenge is a programming error.
  if (!challenge) throw new TypeError('An x402 payment intent needs the provider challenge (§7.5.4 step 7)');
  return challenge;
}

/** §7.5.5 steps 2–10. */
function recordPaymentProof(
  command: RecordPaymentProof,
  state: LiveState,
  settings: OrderPaymentSettings,
  now: string,
): MarketOrderEvent[] {
  const prepared = preparePaymentProof(state, command.proof, settings);
  if (prepared.action === 'existing') return [];
  const { payment, proof } = prepared;
  // Step 8 (a reservation this order already holds is not a reuse: the request is being retried).
  if (command.reuse && command.reuse.orderId !== state.order.id) throw paymentProofReused(command.reuse);
  // Step 9.
  let verification: { blockNumber: number | null; confirmations: number | null } = { blockNumber: null, confirmations: null };
  if (proof.verificationMode === 'rpc') {
    if (!command.rpcVerification) throw new TypeError('An rpc proof needs the facts of the §7.6 verification');
    verification = command.rpcVerification;
  }
  // Step 10.
  const heldAt = assertPaymentTransition(payment.status, 'payment_proof', 'held');
  const type: MarketPaymentRailType | undefined =
    proof.verificationMode === 'rpc' && payment.type === 'wallet' ? 'wdk-usdt-transfer' : undefined;
  const event: MarketOrderEvent = {
    type: 'market_payment.proof_recorded',
    data: {
      paymentId: payment.id,
      from: 'intent_created',
      to: heldAt,
      proof: { ...proof, ...verification, settlement: null, recordedAt: now },
      implicit: false,
      ...(type ? { type } : {}),
      heldAt: now,
      at: now,
    },
  };
  return [event, ...orderMoves(state.order, 'payment_proof', now)];
}

/** §7.5.7 steps 2–8. */
function lockEscrow(command: LockEscrow, state: LiveState, settings: OrderPaymentSettings, now: string): MarketOrderEvent[] {
  const prepared = prepareEscrowLock(state, command.escrow, settings);
  if (prepared.action === 'existing') return [];
  if (command.reuse && command.reuse.orderId !== state.order.id) throw paymentProofReused(command.reuse);
  const to = assertPaymentTransition(prepared.payment.status, 'escrow_lock', 'held');
  return [
    {
      type: 'market_payment.escrow_locked',
      data: {
        paymentId: prepared.payment.id,
        from: 'intent_created',
        to,
        escrow: { ...prepared.escrow, lockedAt: now },
        heldAt: now,
        at: now,
      },
    },
    ...orderMoves(state.order, 'escrow_lock', now),
  ];
}

/** §7.5.8: only for confirmed orders. */
function releasePayment({ order, payment: record }: LiveState, now: string): MarketOrderEvent[] {
  if (order.status !== 'confirmed') throw orderNotDelivered(order);
  const payment = requirePayment(order, record);
  if (payment.status === 'released') return [];
  if (paymentTransition(payment.status, 'release') === null)
    throw paymentConflict(payment, 'payment_not_release_pending', ['release_pending']);
  return [released(payment, now)];
}

/** §7.5.9: `held` and `frozen` whatever the order status; `intent_created` after cancellation or failure. */
function refundPayment({ order, payment: record }: LiveState, reason: string | null, now: string): MarketOrderEvent[] {
  const payment = requirePayment(order, record);
  if (payment.status === 'refunded') return [];
  if (paymentTransition(payment.status, 'refund', order.status) === null) throw paymentConflict(payment, 'payment_not_refundable');
  return [
    {
      type: 'market_payment.refunded',
      data: {
        paymentId: payment.id,
        from: payment.status as 'held' | 'frozen' | 'intent_created',
        to: 'refunded',
        refundReason: reason,
        refundedAt: now,
        at: now,
      },
    },
  ];
}

/** §7.5.10 steps 2–8. */
function startExecution(command: StartExecution, state: LiveState, settings: OrderPaymentSettings, now: string): MarketOrderEvent[] {
  const { order, payment } = state;
  // Step 2.
  assertOrderOpen(order);
  if (order.status === 'executing') throw orderConflict(order, 'execution_in_progress');
  // Delivered and handoff orders answer with the recorded result; nothing is executed again.
  if (order.status === 'delivered' || order.status === 'handoff') return [];
  const from = order.status;
  if (!isPreExecutionOrderStatus(from)) throw orderConflict(order, 'order_not_executable', orderStatusesAllowing('execution_started'));

  // Step 3.
  const input = command.input ?? order.input;
  const issues = operationInputIssues(contractFor(snapshotContracts(order), order.operation), input);
  if (issues.length > 0) throw validationError(issues, 'input_invalid');
  // Step 4.
  if (command.policyDenial) {
    throw new DomainError('AGENT_POLICY_DENIED', `Policy denies the order: ${command.policyDenial.reason.replace(/_/g, ' ')}`, {
      ...command.policyDenial,
    });
  }
  // Step 5.
  checkExecutionPayment(command, order, payment, settings);
  // Step 6.
  const missing = order.executionMode === 'native' ? (command.missingCredentials ?? []) : [];
  if (missing.length > 0) {
    throw validationError(
      missing.map((key) => ({
        location: 'body' as const,
        path: `/providerCredentials/${order.providerKey}/${key}`,
        message: `providerCredentials.${order.providerKey}.${key} is required`,
      })),
      'provider_credentials_required',
    );
  }
  // Step 7.
  const route = command.route;
  if (route.kind === 'none') {
    throw new DomainError('ROUTE_REQUIRED', `No usable route for provider ${order.providerKey}`, {
      providerKey: order.providerKey,
      reason: route.reason,
    });
  }
  // Step 8.
  const to = orderTransition(from, 'execution_started');
  if (to !== 'executing') throw orderConflict(order, 'order_not_executable', orderStatusesAllowing('execution_started'));
  return [
    {
      type: 'market_order.execution_started',
      data: { from, to, input: redactSecrets(input), taskId: route.taskId, routeId: route.routeId, runId: route.runId, at: now },
    },
  ];
}

/** §7.5.10 step 5, in the spec's order. */
function checkExecutionPayment(
  command: StartExecution,
  order: MarketOrderRecord,
  payment: MarketPaymentRecord | null,
  settings: OrderPaymentSettings,
): void {
  if (settings.requirePaymentBeforeExecute) {
    const inPlace = payment === null ? !order.payment.required : PAYMENT_IN_PLACE.includes(payment.status);
    if (!inPlace) throw paymentRequired('payment_not_held', payment?.status ?? null);
  }
  if (payment === null && order.payment.required && order.payment.defaultRail === 'x402') {
    throw paymentRequired('payment_intent_missing', null);
  }
  if (payment?.type !== 'x402') return;
  const headers = command.paymentHeaders;
  if (headers?.hasPayment !== true) throw paymentRequired('payment_header_required', payment.status, { challenge: payment.challenge });
  const recorded = payment.proof?.paymentHeadersFingerprint ?? null;
  if (recorded !== null) {
    if (headers.fingerprint !== recorded) {
      throw invalidBody('/paymentHeaders', 'paymentHeaders differ from the recorded payment proof', 'payment_header_mismatch');
    }
  } else if (payment.proof === null && command.headerReuse && command.headerReuse.orderId !== order.id) {
    throw paymentProofReused(command.headerReuse);
  }
}

/** `PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE`: the payment statuses execution accepts (§7.5.10 step 5). */
const PAYMENT_IN_PLACE: readonly MarketPaymentStatus[] = ['held', 'release_pending', 'released', 'not_required'];

/** §7.5.10 step 9. */
function finishExecution(command: FinishExecution, state: LiveState, now: string): MarketOrderEvent[] {
  const { order, payment } = state;
  if (order.status !== 'executing') throw orderConflict(order, 'execution_not_in_progress', ['executing']);
  const { routeId, runId, result } = command;
  switch (result.kind) {
    case 'delivered': {
      assertOrderTransition(order, 'execution_delivered', 'delivered');
      const events: MarketOrderEvent[] = [
        {
          type: 'market_order.delivered',
          data: {
            from: 'executing',
            to: 'delivered',
            routeId,
            runId,
            outcomeId: result.outcomeId,
            errorMessage: null,
            deliveredAt: now,
            at: now,
          },
        },
      ];
      if (payment?.type === 'x402') events.push(...x402Settlement(payment, command.paymentHeaders ?? null, result.settlement ?? null, now));
      return events;
    }
    case 'handoff':
      assertOrderTransition(order, 'execution_handoff', 'handoff');
      return [
        {
          type: 'market_order.handed_off',
          data: {
            from: 'executing',
            to: 'handoff',
            handoff: result.handoff,
            routeId,
            runId,
            outcomeId: result.outcomeId,
            errorMessage: null,
            at: now,
          },
        },
      ];
    case 'failed':
      assertOrderTransition(order, 'execution_failed', 'failed');
      return [
        {
          type: 'market_order.failed',
          data: {
            from: 'executing',
            to: 'failed',
            routeId,
            runId,
            outcomeId: result.outcomeId,
            errorMessage: result.errorMessage,
            providerStatus: result.providerStatus ?? null,
            at: now,
          },
        },
      ];
    case 'retryable_failure': {
      if (state.resumeStatus === null) throw new TypeError('An executing order remembers the status it returns to');
      const to = orderTransition('executing', 'execution_retryable_failure', state.resumeStatus);
      if (to === null || !isPreExecutionOrderStatus(to)) throw orderConflict(order, 'invalid_transition');
      const events: MarketOrderEvent[] = [
        {
          type: 'market_order.execution_reverted',
          data: { from: 'executing', to, routeId, runId, errorMessage: result.errorMessage, at: now },
        },
      ];
      if (result.challenge && payment?.type === 'x402') {
        events.push({
          type: 'market_payment.challenge_refreshed',
          data: { paymentId: payment.id, changes: { challenge: result.challenge }, at: now },
        });
      }
      return events;
    }
  }
}

/**
 * §7.5.10 native success on an x402 payment: an `intent_created` payment gets the implicit header proof
 * (fingerprint only) and becomes `held`; the order is auto-confirmed; the payment goes `held` →
 * `release_pending` → `released` with the provider's settlement. A payment in another status is left
 * as it is (§7.1).
 */
function x402Settlement(
  payment: MarketPaymentRecord,
  headers: PaymentHeadersFacts | null,
  settlement: PaymentSettlement | null,
  now: string,
): MarketOrderEvent[] {
  const events: MarketOrderEvent[] = [];
  let status = payment.status;
  if (status === 'intent_created') {
    if (headers === null) throw new TypeError('The implicit x402 header proof needs the fingerprint of the execute payment headers');
    status = assertPaymentTransition(status, 'x402_implicit_proof', 'held');
    events.push({
      type: 'market_payment.proof_recorded',
      data: {
        paymentId: payment.id,
        from: 'intent_created',
        to: 'held',
        proof: {
          verificationMode: 'recorded',
          network: payment.network ?? 'evm',
          txHash: null,
          chainId: null,
          tokenAddress: null,
          tokenDecimals: null,
          amount: null,
          fromAddress: null,
          toAddress: null,
          blockNumber: null,
          confirmations: null,
          paymentHeadersFingerprint: headers.fingerprint,
          settlement: null,
          recordedAt: now,
        },
        implicit: true,
        heldAt: now,
        at: now,
      },
    });
  }
  events.push({ type: 'market_order.confirmed', data: { from: 'delivered', to: 'confirmed', automatic: true, confirmedAt: now, at: now } });
  if (paymentTransition(status, 'order_confirmed') === 'release_pending') {
    events.push(releasePending(payment.id, now));
    events.push(released({ id: payment.id, status: 'release_pending' }, now, settlement));
  }
  return events;
}

/** §7.5.11. */
function confirm({ order, payment }: LiveState, now: string): MarketOrderEvent[] {
  assertOrderOpen(order);
  const from = order.status;
  if (orderTransition(from, 'confirm') !== 'confirmed' || (from !== 'delivered' && from !== 'handoff')) throw orderNotDelivered(order);
  const events: MarketOrderEvent[] = [
    { type: 'market_order.confirmed', data: { from, to: 'confirmed', automatic: false, confirmedAt: now, at: now } },
  ];
  if (payment && paymentTransition(payment.status, 'order_confirmed') === 'release_pending') events.push(releasePending(payment.id, now));
  return events;
}

/** §7.5.12. */
function dispute({ order, payment }: LiveState, reason: string, evidence: Record<string, unknown> | null, now: string): MarketOrderEvent[] {
  assertOrderOpen(order);
  const from = order.status;
  if (orderTransition(from, 'dispute') !== 'disputed' || (from !== 'delivered' && from !== 'handoff')) throw orderNotDelivered(order);
  const events: MarketOrderEvent[] = [
    {
      type: 'market_order.disputed',
      data: {
        from,
        to: 'disputed',
        dispute: { reason, evidence: evidence === null ? null : redactSecrets(evidence), openedAt: now },
        disputedAt: now,
        at: now,
      },
    },
  ];
  if (payment && paymentTransition(payment.status, 'dispute') === 'frozen') {
    events.push({
      type: 'market_payment.frozen',
      data: { paymentId: payment.id, from: payment.status as 'held' | 'release_pending', to: 'frozen', frozenAt: now, at: now },
    });
  }
  return events;
}

/** §7.5.13: the payment record is left as it is. */
function cancel({ order }: LiveState, reason: string | null, now: string): MarketOrderEvent[] {
  assertOrderOpen(order);
  if (orderTransition(order.status, 'cancel') !== 'cancelled') {
    throw orderConflict(order, 'order_not_cancellable', orderStatusesAllowing('cancel'));
  }
  return [cancelled(order, reason, now)];
}

/**
 * §5.8.7 forced revocation: every non-terminal order but an executing one is cancelled. The revocation
 * refused executing orders up front (`orders_executing`) and is committed before its orders are
 * cancelled: an order that closed or started executing since is no longer cancellable, and nothing is
 * decided for it, so that the pairing's other orders are still cancelled.
 */
function cancelForPairingRevocation({ order }: LiveState, now: string): MarketOrderEvent[] {
  if (orderTransition(order.status, 'pairing_revoked') !== 'cancelled') return [];
  return [cancelled(order, 'pairing_revoked', now)];
}

// ---------------------------------------------------------------------------------------------------
// Event helpers
// ---------------------------------------------------------------------------------------------------

/** The order events a payment trigger causes (§7.1): none when the order is in another status. */
function orderMoves(order: MarketOrderRecord, trigger: OrderTrigger, now: string): MarketOrderEvent[] {
  const from = order.status;
  const to = orderTransition(from, trigger);
  if (to === 'payment_pending' && from === 'created') return [{ type: 'market_order.payment_pending', data: { from, to, at: now } }];
  if (to === 'ready' && (from === 'created' || from === 'payment_pending'))
    return [{ type: 'market_order.ready', data: { from, to, at: now } }];
  return [];
}

function cancelled(order: MarketOrderRecord, cancelReason: string | null, now: string): MarketOrderEvent {
  return { type: 'market_order.cancelled', data: { from: order.status, to: 'cancelled', cancelReason, cancelledAt: now, at: now } };
}

function releasePending(paymentId: string, now: string): MarketOrderEvent {
  return {
    type: 'market_payment.release_pending',
    data: { paymentId, from: 'held', to: 'release_pending', releasePendingAt: now, at: now },
  };
}

function released(
  payment: Pick<MarketPaymentRecord, 'id' | 'status'>,
  now: string,
  settlement?: PaymentSettlement | null,
): MarketOrderEvent {
  return {
    type: 'market_payment.released',
    data: {
      paymentId: payment.id,
      from: 'release_pending',
      to: 'released',
      releasedAt: now,
      ...(settlement !== undefined ? { settlement } : {}),
      at: now,
    },
  };
}

/** The decider only writes transitions of the §7.1 tables; anything else is a programming error. */
function assertPaymentTransition<T extends MarketPaymentStatus>(from: MarketPaymentStatus | null, trigger: PaymentTrigger, to: T): T {
  if (paymentTransition(from, trigger) !== to) throw new TypeError(`No payment transition ${from} → ${to} on ${trigger}`);
  return to;
}

function assertOrderTransition(order: MarketOrderRecord, trigger: OrderTrigger, to: MarketOrderStatus): void {
  if (orderTransition(order.status, trigger) !== to) throw orderConflict(order, 'invalid_transition');
}

/** The operation contracts of the order's service snapshot (§7.2: the service as it was at creation). */
function snapshotContracts(order: MarketOrderRecord) {
  const contracts = order.serviceSnapshot.operationContracts;
  return Array.isArray(contracts) ? (contracts as Parameters<typeof contractFor>[0]) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Evolution, shared with the read models
// ---------------------------------------------------------------------------------------------------

/**
 * The order and payment records as the API returns them after one more event of the stream: shared by
 * the decider and the order/payment read models so both see exactly the same records.
 */
export function applyMarketOrderEvent(records: OrderRecords, event: MarketOrderEvent): OrderRecords {
  const { order, payment } = records;
  switch (event.type) {
    case 'market_order.created':
      return records;
    case 'market_order.payment_pending':
    case 'market_order.ready':
      return { order: { ...order, status: event.data.to, updatedAt: event.data.at }, payment };
    case 'market_order.execution_started': {
      const { to, input, taskId, routeId, runId, at } = event.data;
      return { order: { ...order, status: to, input, taskId, routeId, runId, updatedAt: at }, payment };
    }
    case 'market_order.execution_reverted': {
      const { to, routeId, runId, errorMessage, at } = event.data;
      return { order: { ...order, status: to, routeId, runId, errorMessage, updatedAt: at }, payment };
    }
    case 'market_order.delivered': {
      const { to, routeId, runId, outcomeId, errorMessage, deliveredAt, at } = event.data;
      return { order: { ...order, status: to, routeId, runId, outcomeId, errorMessage, deliveredAt, updatedAt: at }, payment };
    }
    case 'market_order.handed_off': {
      const { to, handoff, routeId, runId, outcomeId, errorMessage, at } = event.data;
      return { order: { ...order, status: to, handoff, routeId, runId, outcomeId, errorMessage, updatedAt: at }, payment };
    }
    case 'market_order.failed': {
      const { to, routeId, runId, outcomeId, errorMessage, at } = event.data;
      return { order: { ...order, status: to, routeId, runId, outcomeId, errorMessage, updatedAt: at }, payment };
    }
    case 'market_order.confirmed':
      return { order: { ...order, status: event.data.to, confirmedAt: event.data.confirmedAt, updatedAt: event.data.at }, payment };
    case 'market_order.disputed': {
      const { to, dispute, disputedAt, at } = event.data;
      return { order: { ...order, status: to, dispute, disputedAt, updatedAt: at }, payment };
    }
    case 'market_order.cancelled': {
      const { to, cancelReason, cancelledAt, at } = event.data;
      return { order: { ...order, status: to, cancelReason, cancelledAt, updatedAt: at }, payment };
    }
    case 'market_payment.intent_created':
      return { order: { ...order, paymentId: event.data.id, updatedAt: event.data.createdAt }, payment: event.data };
    default:
      return { order, payment: payment === null ? null : applyPaymentEvent(payment, event) };
  }
}

function applyPaymentEvent(payment: MarketPaymentRecord, event: MarketOrderEvent): MarketPaymentRecord {
  switch (event.type) {
    case 'market_payment.challenge_refreshed':
      return { ...payment, challenge: event.data.changes.challenge, updatedAt: event.data.at };
    case 'market_payment.proof_recorded': {
      const { to, proof, type, heldAt, at } = event.data;
      return { ...payment, status: to, proof, type: type ?? payment.type, heldAt, updatedAt: at };
    }
    case 'market_payment.escrow_locked': {
      const { to, escrow, heldAt, at } = event.data;
      return { ...payment, status: to, escrow, heldAt, updatedAt: at };
    }
    case 'market_payment.release_pending':
      return { ...payment, status: event.data.to, releasePendingAt: event.data.releasePendingAt, updatedAt: event.data.at };
    case 'market_payment.released': {
      const { to, releasedAt, settlement, at } = event.data;
      const proof = settlement !== undefined && payment.proof !== null ? { ...payment.proof, settlement } : payment.proof;
      return { ...payment, status: to, releasedAt, proof, updatedAt: at };
    }
    case 'market_payment.frozen':
      return { ...payment, status: event.data.to, frozenAt: event.data.frozenAt, updatedAt: event.data.at };
    case 'market_payment.refunded': {
      const { to, refundReason, refundedAt, at } = event.data;
      return { ...payment, status: to, refundReason, refundedAt, updatedAt: at };
    }
    default:
      return payment;
  }
}

/**
 * The status a retryable failure returns to (§7.1): set when the execution starts, advanced through the
 * order table by the payment triggers accepted while the order executes (they would have moved the
 * order had it not been executing), cleared when the execution ends.
 */
function nextResumeStatus(state: LiveState, event: MarketOrderEvent): PreExecutionOrderStatus | null {
  if (event.type === 'market_order.execution_started') return event.data.from;
  if (state.order.status !== 'executing' || state.resumeStatus === null) return null;
  if (event.type.startsWith('market_order.')) return null;
  const trigger = orderTriggerOf(event);
  if (trigger === null) return state.resumeStatus;
  const next = orderTransition(state.resumeStatus, trigger);
  return next !== null && isPreExecutionOrderStatus(next) ? next : state.resumeStatus;
}

function orderTriggerOf(event: MarketOrderEvent): OrderTrigger | null {
  switch (event.type) {
    case 'market_payment.intent_created':
      return event.data.status === 'not_required' ? 'payment_intent_not_required' : 'payment_intent';
    case 'market_payment.proof_recorded':
      return 'payment_proof';
    case 'market_payment.escrow_locked':
      return 'escrow_lock';
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// Stream and audit entity
// ---------------------------------------------------------------------------------------------------

export function marketOrderStream(id: string, machineId: string) {
  return { streamId: `market-order-${id}`, entityType: ENTITY, entityId: id, machineId };
}

/** §8.7.2: the audit entity of an event of the order stream (`market-order`, or `market-payment` with the payment id). */
export function marketOrderEventEntity(
  orderId: string,
  event: MarketOrderEvent,
): { entityType: 'market-order' | 'market-payment'; entityId: string } {
  if (event.type === 'market_payment.intent_created') return { entityType: 'market-payment', entityId: event.data.id };
  if (event.type.startsWith('market_payment.'))
    return { entityType: 'market-payment', entityId: (event.data as { paymentId: string }).paymentId };
  return { entityType: 'market-order', entityId: orderId };
}
