import { Injectable } from '@nestjs/common';
import { marketOrderDecider, marketOrderStream } from '../../domain/order/market-order.decider';
import { PaymentReuse } from '../../domain/order/order-errors';
import { ClaimHolder, paymentReuseDecider, PaymentReuseKey, paymentReuseStream } from '../../domain/order/payment-reuse.decider';
import { DomainError } from '../../domain/shared/domain-error';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

/**
 * The reuse index of §7.5.5 step 8 and §7.5.7 step 7 over internal `_payment-…` claim streams. A claim
 * is judged against the claiming order's own stream: it blocks while that order's payment carries the
 * transaction (or header fingerprint), or while the claim is in flight.
 */
@Injectable()
export class PaymentClaims {
  constructor(private readonly streams: AggregateStreams) {}

  /** The other order the key already backs, if any (writes nothing). */
  async reuseOf(keys: readonly PaymentReuseKey[], orderId: string, now: string): Promise<PaymentReuse | null> {
    for (const key of keys) {
      const { state } = await this.streams.load(paymentReuseStream(key).streamId, paymentReuseDecider);
      try {
        paymentReuseDecider.decide({ type: 'claim', key, orderId }, state, { now, holder: await this.holderOf(state, key) });
      } catch (error) {
        if (error instanceof DomainError && error.code === 'PAYMENT_PROOF_REUSED') {
          return { orderId: String(error.details?.orderId), txHash: (error.details?.txHash as string | undefined) ?? null };
        }
        throw error;
      }
    }
    return null;
  }

  /** Claims every key for the order, atomically per key (expected revision); PAYMENT_PROOF_REUSED when taken. */
  async claim(keys: readonly PaymentReuseKey[], orderId: string, ctx: CommandContext): Promise<void> {
    for (const key of keys) {
      await this.streams.handle(paymentReuseStream(key), paymentReuseDecider, { type: 'claim', key, orderId }, ctx, {
        context: async (state) => ({ holder: await this.holderOf(state, key) }),
        waitForReadModels: false,
      });
    }
  }

  private async holderOf(state: { kind: string; orderId?: string }, key: PaymentReuseKey): Promise<ClaimHolder | undefined> {
    if (state.kind !== 'claimed' || state.orderId === undefined) return undefined;
    const { state: holder } = await this.streams.load(marketOrderStream(state.orderId, '').streamId, marketOrderDecider);
    if (holder.kind !== 'live' || holder.payment === null) return 'not_backing';
    const { proof, escrow } = holder.payment;
    const backs =
      key.kind === 'headers'
        ? proof?.paymentHeadersFingerprint === key.fingerprint
        : proof?.txHash?.toLowerCase() === key.tx.txHash.toLowerCase() || escrow?.txHash?.toLowerCase() === key.tx.txHash.toLowerCase();
    return backs ? 'backs' : 'not_backing';
  }
}
