import { deciderSpec } from '../../../test/support/decider-spec';
import {
  PAYMENT_CLAIM_IN_FLIGHT_MS,
  PaymentReuseEvent,
  paymentReuseDecider,
  PaymentReuseKey,
  paymentReuseStream,
} from './payment-reuse.decider';

const T0 = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-01T00:00:30.000Z';
const TX = '0x' + 'ab'.repeat(32);
const KEY: PaymentReuseKey = { kind: 'tx', tx: { network: 'evm', chainId: 3338, txHash: TX } };
const spec = deciderSpec(paymentReuseDecider, { now: NOW });
const claimed = (orderId: string, at = T0): PaymentReuseEvent => ({ type: 'payment_reuse.claimed', data: { orderId, txHash: TX, at } });
const claim = (orderId: string) => ({ type: 'claim' as const, key: KEY, orderId });

describe('payment reuse claims (§7.5.5 step 8, §7.5.7 step 7)', () => {
  it('claims a free transaction for the order', () =>
    spec
      .given([])
      .when(claim('ord_B'))
      .then([claimed('ord_B', NOW)]));

  it('is a no-op for the order that holds the claim (a retried request)', () =>
    spec
      .given([claimed('ord_A')])
      .when(claim('ord_A'))
      .then([]));

  it('refuses another order while the holder’s payment carries the transaction', () =>
    spec
      .given([claimed('ord_A')])
      .when(claim('ord_B'), { holder: 'backs' })
      .thenThrows('PAYMENT_PROOF_REUSED', { orderId: 'ord_A', txHash: TX }));

  it('refuses another order while the holder’s claim is in flight', () =>
    spec
      .given([claimed('ord_A')])
      .when(claim('ord_B'), { holder: 'not_backing' })
      .thenThrows('PAYMENT_PROOF_REUSED'));

  it('takes over a claim whose order never recorded the proof once the in-flight window passed', () => {
    const later = new Date(Date.parse(T0) + PAYMENT_CLAIM_IN_FLIGHT_MS).toISOString();
    spec
      .given([claimed('ord_A')])
      .when(claim('ord_B'), { holder: 'not_backing', now: later })
      .then([claimed('ord_B', later)]);
  });

  it('never takes over from a holder that backs it, however old', () =>
    spec
      .given([claimed('ord_A')])
      .when(claim('ord_B'), { holder: 'backs', now: '2027-01-01T00:00:00.000Z' })
      .thenThrows('PAYMENT_PROOF_REUSED'));

  it('names internal streams per chain and transaction, and per header fingerprint', () => {
    expect(paymentReuseStream(KEY).streamId).toBe(`_payment-tx-3338-${TX}`);
    expect(paymentReuseStream({ kind: 'headers', fingerprint: 'f'.repeat(64) }).streamId).toBe(`_payment-headers-${'f'.repeat(64)}`);
    expect(paymentReuseStream({ kind: 'tx', tx: { network: 'solana', txHash: 'abc' } }).streamId).toMatch(
      /^_payment-tx-solana-[0-9a-f]{64}$/,
    );
  });
});
