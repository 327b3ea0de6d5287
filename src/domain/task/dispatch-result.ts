import { PaymentSettlement } from '../order/market-order-types';

/** §8.5.3: a successful answer's body is at most 1 MiB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** §8.5.3: statuses that make a failure retryable. */
export const RETRYABLE_STATUSES: readonly number[] = [402, 429, 503];

/** §8.5.3: characters of the body quoted in `Run.error`. */
export const ERROR_BODY_CHARACTERS = 200;

/** The result of one dispatch attempt, as the HTTP client reports it. */
export type AttemptResult =
  /** The request did not reach the target (DNS failure, connection refused, TLS handshake failure). */
  | { kind: 'connection_failed'; detail: string }
  /** The request was sent but no answer came within `PEAQOS_EXECUTE_TIMEOUT_MS`. */
  | { kind: 'timeout'; ms: number }
  /** An answer; `contentType` is the header as received (null when absent). */
  | { kind: 'response'; status: number; contentType: string | null; body: Buffer | string; sizeBytes: number };

export type DispatchClassification = 'success' | 'retryable' | 'non_retryable';

/** How one attempt ends its run, and whether the next candidate is tried. */
export type AttemptVerdict = {
  runStatus: 'succeeded' | 'failed';
  /** `Run.error`, null on success. */
  error: string | null;
  /** True when the attempt failed before reaching the target: the next candidate is tried. */
  tryNext: boolean;
};

export type DispatchVerdict = {
  classification: DispatchClassification;
  /** One verdict per attempt, in order. */
  runs: AttemptVerdict[];
  /** The HTTP status of the final attempt's answer, or null when there was none. */
  providerStatus: number | null;
  /** The output on success (not yet redacted; the task decider redacts it), else undefined. */
  output?: unknown;
};

/** §8.5.3, one attempt. */
export function judgeAttempt(result: AttemptResult): AttemptVerdict {
  switch (result.kind) {
    case 'connection_failed':
      return { runStatus: 'failed', error: `connection failed: ${result.detail}`, tryNext: true };
    case 'timeout':
      return { runStatus: 'failed', error: `timeout after ${result.ms} ms`, tryNext: false };
    case 'response': {
      if (!is2xx(result.status)) return { runStatus: 'failed', error: httpError(result.status, result.body), tryNext: false };
      if (result.sizeBytes > MAX_RESPONSE_BYTES) return { runStatus: 'failed', error: 'response too large', tryNext: false };
      const output = responseOutput(result.contentType, result.body);
      if (!output.ok) return { runStatus: 'failed', error: httpError(result.status, result.body), tryNext: false };
      return { runStatus: 'succeeded', error: null, tryNext: false };
    }
  }
}

/**
 * §8.5.3: the classification of a dispatch from its attempts (one per candidate tried, in order).
 * Only the last attempt may have reached its target.
 */
export function classifyDispatch(attempts: readonly AttemptResult[]): DispatchVerdict {
  if (attempts.length === 0) throw new TypeError('A dispatch has at least one attempt');
  const runs = attempts.map(judgeAttempt);
  if (runs.slice(0, -1).some((run) => !run.tryNext))
    throw new TypeError('Only an attempt that did not reach its target is followed by another');
  const last = attempts[attempts.length - 1];
  const providerStatus = last.kind === 'response' ? last.status : null;
  if (last.kind === 'connection_failed') return { classification: 'retryable', runs, providerStatus };
  if (last.kind === 'response') {
    if (RETRYABLE_STATUSES.includes(last.status)) return { classification: 'retryable', runs, providerStatus };
    if (runs[runs.length - 1].runStatus === 'succeeded') {
      const output = responseOutput(last.contentType, last.body);
      if (output.ok) return { classification: 'success', runs, providerStatus, output: output.value };
    }
  }
  return { classification: 'non_retryable', runs, providerStatus };
}

/** `HTTP <status>: <first 200 characters of the body>`. */
export function httpError(status: number, body: Buffer | string): string {
  return `HTTP ${status}: ${Array.from(bodyText(body)).slice(0, ERROR_BODY_CHARACTERS).join('')}`;
}

/**
 * §8.5.3 `Outcome.output` of a successful answer (before redaction): the parsed JSON for
 * `application/json`, `{ contentType, text }` for `text/*`, `{ contentType, base64 }` otherwise.
 * A JSON body that does not parse is an invalid response (§7.5.10: non-retryable).
 */
export function responseOutput(contentType: string | null, body: Buffer | string): { ok: true; value: unknown } | { ok: false } {
  const type = mediaType(contentType);
  if (type === 'application/json') {
    try {
      return { ok: true, value: JSON.parse(bodyText(body)) as unknown };
    } catch {
      return { ok: false };
    }
  }
  const declared = contentType ?? 'application/octet-stream';
  if (type.startsWith('text/')) return { ok: true, value: { contentType: declared, text: bodyText(body) } };
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return { ok: true, value: { contentType: declared, base64: bytes.toString('base64') } };
}

/**
 * §8.5.4: the x402 settlement of a `payment-response` header (base64-encoded JSON with `transaction`
 * and `network`), or null when the header is absent or carries neither.
 */
export function parsePaymentResponseHeader(value: string | null | undefined): PaymentSettlement | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.trim(), 'base64').toString('utf8'));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const { transaction, network } = parsed as Record<string, unknown>;
  const txHash = typeof transaction === 'string' && transaction !== '' ? transaction : null;
  const net = typeof network === 'string' && network !== '' ? network : null;
  return txHash === null && net === null ? null : { txHash, network: net };
}

/** The media type of a Content-Type header, lower-case, without parameters ("" when absent). */
export function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

function bodyText(body: Buffer | string): string {
  return typeof body === 'string' ? body : body.toString('utf8');
}
