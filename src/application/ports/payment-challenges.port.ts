import { MarketPaymentChallenge } from '../../domain/order/market-order-types';
import { ProviderEndpoint } from '../../domain/task/route-resolution';

/** What fetching an x402 challenge needs (§7.5.4 step 7). */
export type ChallengeRequest = {
  /** The provider endpoint of §8.5.2 (`providerEndpoint`; its `url` is set). */
  endpoint: ProviderEndpoint;
  input: Record<string, unknown>;
  correlationId: string;
  /** Only these two payment headers are forwarded, never a payment. */
  authorization?: string;
  signInWithX?: string;
};

export type ChallengeResult =
  | { ok: true; challenge: MarketPaymentChallenge }
  | { ok: false; reason: 'unexpected_status'; providerStatus: number }
  | { ok: false; reason: 'timeout' | 'network' };

/** The provider's x402 payment challenge, requested the way execution would call it (§8.5.4). */
export interface PaymentChallenges {
  fetch(request: ChallengeRequest): Promise<ChallengeResult>;
}
export const PAYMENT_CHALLENGES = Symbol('PaymentChallenges');
