import { MarketPaymentChallenge } from './market-order-types';

/** The response headers of a provider `402` kept verbatim in the challenge (§7.2). */
export const X402_CHALLENGE_HEADERS = ['payment-required', 'www-authenticate'] as const;

/**
 * §7.2 `MarketPaymentChallenge` of a provider's `402` (§7.5.4 step 7, §7.5.10 `payment_rejected`): the
 * requirements are the JSON body, else the base64 JSON of the `payment-required` header, else null.
 */
export function x402Challenge(body: string, headers: Record<string, string>, fetchedAt: string): MarketPaymentChallenge {
  const header = headers['payment-required'];
  const fromHeader = header === undefined ? undefined : parseJson(Buffer.from(header, 'base64').toString('utf8'));
  return {
    protocol: 'x402',
    httpStatus: 402,
    paymentRequired: parseJson(body) ?? fromHeader ?? null,
    headers: { ...headers },
    fetchedAt,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
