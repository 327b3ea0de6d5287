import { ChallengeRequest, ChallengeResult, PaymentChallenges } from '../../application/ports/payment-challenges.port';
import { Clock } from '../../application/ports/clock.port';
import { X402_CHALLENGE_HEADERS, x402Challenge } from '../../domain/order/payment-challenge';

/**
 * §7.5.4 step 7 over HTTP with the generic provider protocol of §8.5.4: the endpoint's method (default
 * POST), `input` as query parameters for GET/DELETE and as the JSON body otherwise, no payment header.
 * A `402` is the challenge (`x402Challenge`).
 */
export class HttpPaymentChallenges implements PaymentChallenges {
  constructor(
    private readonly options: { timeoutMs: number },
    private readonly clock: Clock,
  ) {}

  async fetch(request: ChallengeRequest): Promise<ChallengeResult> {
    const method = (request.endpoint.method ?? 'POST').toUpperCase();
    const url = new URL(request.endpoint.url + (request.endpoint.path ?? ''));
    const headers: Record<string, string> = { Accept: 'application/json', 'x-correlation-id': request.correlationId };
    if (request.authorization !== undefined) headers.Authorization = request.authorization;
    if (request.signInWithX !== undefined) headers['SIGN-IN-WITH-X'] = request.signInWithX;
    let body: string | undefined;
    if (method === 'GET' || method === 'DELETE') {
      for (const [key, value] of Object.entries(request.input)) {
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') url.searchParams.set(key, String(value));
      }
    } else {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(request.input);
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.options.timeoutMs);
    try {
      const response = await fetch(url, { method, headers, body, signal: abort.signal, redirect: 'manual' });
      const text = await response.text();
      if (response.status !== 402) return { ok: false, reason: 'unexpected_status', providerStatus: response.status };
      const verbatim: Record<string, string> = {};
      for (const name of X402_CHALLENGE_HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) verbatim[name] = value;
      }
      return { ok: true, challenge: x402Challenge(text, verbatim, this.clock.now().toISOString()) };
    } catch {
      return { ok: false, reason: abort.signal.aborted ? 'timeout' : 'network' };
    } finally {
      clearTimeout(timer);
    }
  }
}
