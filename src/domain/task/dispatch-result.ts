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

/** An attempt's verdict with what the classification of its dispatch needs: its status and output. */
export type JudgedAttempt = AttemptVerdict & {
  /** The HTTP status of the answer, or null when there was none. */
  status: number | null;
  /** The output of a succeeded attempt (not yet redacted; the task decider redacts it), else undefined. */
  output?: unknown;
};

export type DispatchVerdict = {
  classification: DispatchClassification;
  /** One verdict per attempt, in order. */
  runs: JudgedAttempt[];
  /** The HTTP status of the final attempt's answer, or null when there was none. */
  providerStatus: number | null;
  /** The output on success (not yet redacted; the task decider redacts it), else undefined. */
  output?: unknown;
};

/** §8.5.3, one attempt: how its run ends. */
export function judgeAttempt(result: AttemptResult): AttemptVerdict {
  const { runStatus, error, tryNext } = judgeDispatchAttempt(result);
  return { runStatus, error, tryNext };
}

/**
 * §8.5.3, one attempt, judged once per dispatch: its verdict, its status and, on success, its output
 * (a JSON body is parsed here and nowhere else).
 */
export function judgeDispatchAttempt(result: AttemptResult): JudgedAttempt {
  switch (result.kind) {
    case 'connection_failed':
      return { runStatus: 'failed', error: `connection failed: ${result.detail}`, tryNext: true, status: null };
    case 'timeout':
      return { runStatus: 'failed', error: `timeout after ${result.ms} ms`, tryNext: false, status: null };
    case 'response': {
      const { status, body } = result;
      const failed = (error: string): JudgedAttempt => ({ runStatus: 'failed', error, tryNext: false, status });
      if (!is2xx(status)) return failed(httpError(status, body));
      if (result.sizeBytes > MAX_RESPONSE_BYTES) return failed('response too large');
      const output = responseOutput(result.contentType, body);
      if (!output.ok) return failed(httpError(status, body));
      return { runStatus: 'succeeded', error: null, tryNext: false, status, output: output.value };
    }
  }
}

/**
 * §8.5.3: the classification of a dispatch from the verdicts of its attempts (one per candidate tried,
 * in order, each from `judgeDispatchAttempt`). Only the last attempt may have reached its target.
 */
export function classifyDispatch(runs: readonly JudgedAttempt[]): DispatchVerdict {
  if (runs.length === 0) throw new TypeError('A dispatch has at least one attempt');
  if (runs.slice(0, -1).some((run) => !run.tryNext))
    throw new TypeError('Only an attempt that did not reach its target is followed by another');
  const verdict = { runs: [...runs], providerStatus: runs[runs.length - 1].status };
  const last = runs[runs.length - 1];
  // Only a connection failure lets the next candidate be tried: the last attempt never reached its target.
  if (last.tryNext) return { classification: 'retryable', ...verdict };
  if (last.status !== null && RETRYABLE_STATUSES.includes(last.status)) return { classification: 'retryable', ...verdict };
  if (last.runStatus === 'succeeded') return { classification: 'success', ...verdict, output: last.output };
  return { classification: 'non_retryable', ...verdict };
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
