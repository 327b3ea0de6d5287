import { sha256Hex } from '../shared/canonical-json';
import { Decider, DecideContext } from '../shared/decider';
import { paymentProofReused } from './order-errors';
import { PaymentTxKey } from './payment-proof';

/**
 * §7.5.5 step 8 / §7.5.7 step 7: one on-chain transaction (or one payment-header fingerprint) backs at
 * most one order's payment, across instances. A claim is an internal `_payment-…` stream appended with
 * the expected revision before the proof is recorded (ARCHITECTURE §3). A claim whose order never
 * recorded the proof (a failed or crashed request) stops blocking after the in-flight window.
 */
export type PaymentReuseKey = { kind: 'tx'; tx: PaymentTxKey } | { kind: 'headers'; fingerprint: string };

export type PaymentReuseEvent = { type: 'payment_reuse.claimed'; data: { orderId: string; txHash: string | null; at: string } };

export type PaymentReuseState = { kind: 'free' } | { kind: 'claimed'; orderId: string; txHash: string | null; since: string };

/** What the handler found in the claiming order's own stream. */
export type ClaimHolder = 'backs' | 'not_backing';

export type PaymentReuseContext = DecideContext & { holder?: ClaimHolder };

export type ClaimPaymentKey = { type: 'claim'; key: PaymentReuseKey; orderId: string };

export const PAYMENT_CLAIM_IN_FLIGHT_MS = 120_000;

export const paymentReuseDecider: Decider<ClaimPaymentKey, PaymentReuseState, PaymentReuseEvent, PaymentReuseContext> = {
  initialState: () => ({ kind: 'free' }),
  evolve: (_state, event) => ({ kind: 'claimed', orderId: event.data.orderId, txHash: event.data.txHash, since: event.data.at }),
  decide(command, state, { now, holder }) {
    const txHash = command.key.kind === 'tx' ? command.key.tx.txHash : null;
    if (state.kind === 'claimed' && state.orderId === command.orderId) return [];
    if (state.kind === 'claimed') {
      const stale = holder === 'not_backing' && Date.parse(now) - Date.parse(state.since) >= PAYMENT_CLAIM_IN_FLIGHT_MS;
      if (!stale) throw paymentProofReused({ orderId: state.orderId, txHash: state.txHash });
    }
    return [{ type: 'payment_reuse.claimed', data: { orderId: command.orderId, txHash, at: now } }];
  },
};

export function paymentReuseStream(key: PaymentReuseKey) {
  const id =
    key.kind === 'headers'
      ? `headers-${key.fingerprint}`
      : key.tx.network === 'solana'
        ? `tx-solana-${sha256Hex(key.tx.txHash)}`
        : `tx-${key.tx.chainId}-${key.tx.txHash.toLowerCase()}`;
  return { streamId: `_payment-${id}`, entityType: 'payment-reuse', entityId: id };
}
