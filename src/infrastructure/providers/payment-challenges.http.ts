import { ChallengeRequest, ChallengeResult, PaymentChallenges } from '../../application/ports/payment-challenges.port';
import { Clock } from '../../application/ports/clock.port';
import { x402Challenge } from '../../domain/order/payment-challenge';
import { MAX_RESPONSE_BYTES } from '../../domain/task/dispatch-result';
import { sendProviderRequest } from './http-provider.adapter';

/** The status of a payment challenge (§7.5.4 step 7). */
const PAYMENT_REQUIRED = 402;

/**
 * §7.5.4 step 7: the request execution would send to the provider endpoint (`sendProviderRequest`, the
 * generic provider protocol of §8.5.4), with `authorization` and `signInWithX` as its only payment
 * headers and no provider credential, bounded by `timeoutMs`. The outcome:
 * - `402` → the challenge (`x402Challenge`); a body over 1 MiB is not read in full, so it is not JSON and
 *   the requirements come from the `payment-required` header, if any;
 * - any other status → `unexpected_status` with `providerStatus` (its body is not read);
 * - the time bound hit → `timeout`;
 * - no answer otherwise (connection or TLS failure, socket closed, invalid URL or header value) → `network`.
 */
export class HttpPaymentChallenges implements PaymentChallenges {
  constructor(
    private readonly options: { timeoutMs: number },
    private readonly clock: Clock,
  ) {}

  async fetch(request: ChallengeRequest): Promise<ChallengeResult> {
    const { result, extras } = await sendProviderRequest(
      {
        url: request.endpoint.url + (request.endpoint.path ?? ''),
        method: request.endpoint.method,
        input: request.input,
        correlationId: request.correlationId,
        paymentHeaders: { authorization: request.authorization, signInWithX: request.signInWithX },
        credential: null,
        timeoutMs: this.options.timeoutMs,
      },
      { readBody: (status) => status === PAYMENT_REQUIRED },
    );
    if (result.kind === 'timeout') return { ok: false, reason: 'timeout' };
    if (result.kind === 'connection_failed' || result.status === 0) return { ok: false, reason: 'network' };
    if (result.status !== PAYMENT_REQUIRED) return { ok: false, reason: 'unexpected_status', providerStatus: result.status };
    const body = result.sizeBytes > MAX_RESPONSE_BYTES ? '' : bodyText(result.body);
    return { ok: true, challenge: x402Challenge(body, extras?.challengeHeaders ?? {}, this.clock.now().toISOString()) };
  }
}

/** The body as UTF-8 text, a leading byte order mark dropped (as `Response.text()` does). */
function bodyText(body: Buffer | string): string {
  return typeof body === 'string' ? body : new TextDecoder().decode(body);
}
