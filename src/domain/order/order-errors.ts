import { DomainError, stateConflict, validationError } from '../shared/domain-error';
import { MarketOrderRecord, MarketPaymentChallenge, MarketPaymentRecord } from './market-order-types';
import { isTerminalOrderStatus, MarketOrderStatus } from './order-status';
import { MarketPaymentStatus } from './payment-status';

/** The errors of §7.5 with the exact codes and details of §0.9. */

/** `409 ORDER_CLOSED` with `{ orderId, status }`. */
export function orderClosed(order: MarketOrderRecord): DomainError {
  return new DomainError('ORDER_CLOSED', `market-order ${order.id} is closed (${order.status})`, {
    orderId: order.id,
    status: order.status,
  });
}

/** §7.1: order-lifecycle endpoints refuse a terminal order. */
export function assertOrderOpen(order: MarketOrderRecord): void {
  if (isTerminalOrderStatus(order.status)) throw orderClosed(order);
}

/** `409 ORDER_NOT_DELIVERED` with `{ orderId, status }`. */
export function orderNotDelivered(order: MarketOrderRecord): DomainError {
  return new DomainError('ORDER_NOT_DELIVERED', `market-order ${order.id} is ${order.status}, not delivered`, {
    orderId: order.id,
    status: order.status,
  });
}

/** `409 STATE_CONFLICT` about the order. */
export function orderConflict(order: MarketOrderRecord, reason: string, allowed?: MarketOrderStatus[]): DomainError {
  return stateConflict('market-order', order.id, order.status, reason, allowed);
}

/** `409 STATE_CONFLICT` about the payment record. */
export function paymentConflict(payment: MarketPaymentRecord, reason: string, allowed?: MarketPaymentStatus[]): DomainError {
  return stateConflict('market-payment', payment.id, payment.status, reason, allowed);
}

/**
 * `409 STATE_CONFLICT`, `reason: "payment_intent_missing"`: the order has no payment record, so the
 * conflicting entity is the order (there is no payment id to name).
 */
export function paymentIntentMissing(order: MarketOrderRecord): DomainError {
  return orderConflict(order, 'payment_intent_missing');
}

/** The order's payment record, or `payment_intent_missing`. */
export function requirePayment(order: MarketOrderRecord, payment: MarketPaymentRecord | null): MarketPaymentRecord {
  if (payment === null) throw paymentIntentMissing(order);
  return payment;
}

/** `402 PAYMENT_REQUIRED` with `{ reason, paymentStatus, challenge? }`. */
export function paymentRequired(
  reason: string,
  paymentStatus: MarketPaymentStatus | null,
  extra: { challenge?: MarketPaymentChallenge | null; retryable?: boolean } = {},
): DomainError {
  return new DomainError('PAYMENT_REQUIRED', `Payment required: ${reason.replace(/_/g, ' ')}`, {
    reason,
    paymentStatus,
    ...(extra.challenge !== undefined ? { challenge: extra.challenge } : {}),
    ...(extra.retryable !== undefined ? { retryable: extra.retryable } : {}),
  });
}

/** `409 PAYMENT_PROOF_REUSED` with the other order's id (and the transaction, when there is one). */
export function paymentProofReused(reuse: PaymentReuse): DomainError {
  return new DomainError('PAYMENT_PROOF_REUSED', `The payment already backs market-order ${reuse.orderId}`, {
    orderId: reuse.orderId,
    ...(reuse.txHash ? { txHash: reuse.txHash } : {}),
  });
}

/**
 * The reuse index's answer (§7.5.5 step 8), looked up by the handler: the other order the same
 * transaction or header fingerprint already backs.
 */
export type PaymentReuse = { orderId: string; txHash?: string | null };

/** `400 VALIDATION_ERROR` about one body member (`path` is a JSON Pointer). */
export function invalidBody(path: string, message: string, reason?: string): DomainError {
  return validationError([{ location: 'body', path, message }], reason);
}
