import { ProviderAdapter, ProviderAnswer, ProviderInvocation, ProviderResponseExtras } from '../../application/ports/provider-adapter.port';
import { AuthType, CatalogService } from '../../domain/catalog/catalog-types';
import { X402_CHALLENGE_HEADERS } from '../../domain/order/payment-challenge';
import { PaymentHeaders } from '../../domain/order/payment-headers';
import { AttemptResult, MAX_RESPONSE_BYTES } from '../../domain/task/dispatch-result';
import { providerEndpoint, RouteCandidate } from '../../domain/task/route-resolution';

/** §8.5.4 payment headers: `PaymentHeaders` member → HTTP header. */
const PAYMENT_HEADERS = [
  ['xPayment', 'X-PAYMENT'],
  ['paymentSignature', 'PAYMENT-SIGNATURE'],
  ['authorization', 'Authorization'],
  ['signInWithX', 'SIGN-IN-WITH-X'],
] as const;

/** Error codes (Node `net`/`dns`, undici) meaning the request never reached the target (§8.5.3). */
const NOT_REACHED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** OpenSSL certificate verification codes as Node reports them (`tls` `verifyError`). */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

/** Characters of an error message kept in a `detail` or a status-0 body. */
const MESSAGE_CHARACTERS = 200;

/**
 * The generic "Provider target" protocol of §8.5.4 over global `fetch`: the endpoint's method (default
 * POST) on the route URL, `input` as query parameters for GET/DELETE and as the JSON body otherwise, the
 * payment headers and the provider credential of the service's auth type. Redirects are not followed.
 *
 * The attempt is bounded by `timeoutMs`, body included, and the body is read at most one byte past
 * 1 MiB (§8.5.3). The payment headers and credentials are put on the request and nowhere else: the
 * adapter logs nothing and keeps nothing. The request is made by `sendProviderRequest`, which the x402
 * challenge fetch (§7.5.4 step 7) uses too.
 *
 * How a failed `fetch` is reported (§8.5.3 only names DNS, connection and TLS failures and timeouts):
 * - the attempt's timer fired (before or after the headers) → `timeout` with `timeoutMs`;
 * - the error chain carries a code that means the request never reached the target (connection refused,
 *   DNS failure, unreachable host or network, undici's connect timeout, TLS/certificate failure) →
 *   `connection_failed`, so the next candidate is tried;
 * - anything else: the socket closed or reset after connecting (the request may have reached the
 *   target, so no other candidate may be tried, and no time bound was hit), or a request that cannot be
 *   made (invalid URL or header value, unknown scheme). It is reported as an answer without an HTTP
 *   status, `status: 0` with a short error message (never a header value) as the body, which the domain
 *   classifies non-retryable (`Run.error` "HTTP 0: <message>").
 */
export class HttpProviderAdapter implements ProviderAdapter {
  readonly name = 'http-provider';

  /** Every provider route; an adapter for a specific provider key is placed before this one. */
  handles(route: RouteCandidate, _service?: CatalogService): boolean {
    return route.target === 'provider';
  }

  async invoke(invocation: ProviderInvocation): Promise<ProviderAnswer> {
    // The provider route was resolved from this endpoint (§8.5.2, `routeCandidates`): its method applies.
    const endpoint = providerEndpoint(invocation.service.endpoints, invocation.operation);
    const { result, extras } = await sendProviderRequest({
      url: invocation.route.url,
      method: endpoint?.method,
      input: invocation.input,
      correlationId: invocation.correlationId,
      paymentHeaders: invocation.paymentHeaders,
      credential: credentialOf(invocation),
      timeoutMs: invocation.timeoutMs,
    });
    return extras === undefined ? { kind: 'attempt', result } : { kind: 'attempt', result, extras };
  }
}

/** One request of the generic "Provider target" protocol (§8.5.4). */
export type ProviderRequest = {
  /** The route URL. */
  url: string;
  /** The endpoint's method; POST when null or absent. */
  method: string | null | undefined;
  input: Record<string, unknown>;
  correlationId: string;
  paymentHeaders: PaymentHeaders | null;
  /** The provider credential and how it is sent (the adapter's `authType`), or null for none. */
  credential: { authType: AuthType; value: string } | null;
  timeoutMs: number;
};

export type ProviderExchange = {
  result: AttemptResult;
  /** Set once the response headers arrived. */
  extras?: ProviderResponseExtras;
};

export type ProviderRequestOptions = {
  /**
   * Whether the body of an answer with this status is read; when not, it is discarded unread and the
   * answer has an empty body (`sizeBytes` 0). Every body is read by default.
   */
  readBody?: (status: number) => boolean;
};

/**
 * Sends `request` as execution does (see `HttpProviderAdapter`) and reports the attempt as §8.5.3
 * classifies it: the answer (body read at most one byte past 1 MiB), a timeout, a failure before the
 * target was reached, or an answer without an HTTP status (`status: 0`) for anything else, an invalid
 * URL included. It never throws for a failed request.
 */
export async function sendProviderRequest(request: ProviderRequest, options: ProviderRequestOptions = {}): Promise<ProviderExchange> {
  const method = (request.method ?? 'POST').toUpperCase();

  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return { result: noStatus('invalid URL') };
  }
  let body: string | undefined;
  if (method === 'GET' || method === 'DELETE') {
    for (const [key, value] of Object.entries(request.input)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') url.searchParams.set(key, String(value));
    }
  } else {
    body = JSON.stringify(request.input);
  }

  // Built here so that an invalid value is reported by header name: fetch's own error quotes the value.
  const headers = new Headers();
  for (const [name, value] of requestHeaders(request, body !== undefined)) {
    try {
      headers.set(name, value);
    } catch {
      return { result: noStatus(`invalid value of the ${name} header`) };
    }
  }

  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, request.timeoutMs);
  let extras: ProviderResponseExtras | undefined;
  try {
    const response = await fetch(url, { method, headers, body, signal: abort.signal, redirect: 'manual' });
    extras = extrasOf(response.headers);
    const contentType = response.headers.get('content-type');
    if (options.readBody !== undefined && !options.readBody(response.status)) {
      response.body?.cancel().catch(() => undefined);
      return { result: { kind: 'response', status: response.status, contentType, body: Buffer.alloc(0), sizeBytes: 0 }, extras };
    }
    const read = await readBounded(response, abort);
    const sizeBytes = read.tooLarge ? MAX_RESPONSE_BYTES + 1 : read.body.length;
    return { result: { kind: 'response', status: response.status, contentType, body: read.body, sizeBytes }, extras };
  } catch (error) {
    if (timedOut) return { result: { kind: 'timeout', ms: request.timeoutMs }, extras };
    const notReached = notReachedDetail(error);
    if (notReached !== null) return { result: { kind: 'connection_failed', detail: notReached }, extras };
    return { result: noStatus(errorMessage(error)), extras };
  } finally {
    clearTimeout(timer);
  }
}

function requestHeaders(request: ProviderRequest, withBody: boolean): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    ['Accept', 'application/json'],
    ['x-correlation-id', request.correlationId],
  ];
  if (withBody) headers.push(['Content-Type', 'application/json']);
  const payment = request.paymentHeaders;
  for (const [member, name] of PAYMENT_HEADERS) {
    const value = payment?.[member];
    if (value !== undefined) headers.push([name, value]);
  }
  const credential = request.credential;
  if (credential !== null) {
    if (credential.authType === 'bearer' && payment?.authorization === undefined)
      headers.push(['Authorization', `Bearer ${credential.value}`]);
    if (credential.authType === 'api-key') headers.push(['x-api-key', credential.value]);
  }
  return headers;
}

/**
 * The adapter's `authType` (else the service's) with the value of the adapter's first required secret
 * credential field for the service's provider key, or null when there is no such value.
 */
function credentialOf(invocation: ProviderInvocation): ProviderRequest['credential'] {
  const field = invocation.adapter?.credentialFields.find((f) => f.required && f.secret);
  if (field === undefined) return null;
  const value = invocation.providerCredentials?.[invocation.service.providerKey]?.[field.key];
  if (typeof value !== 'string' || value === '') return null;
  return { authType: invocation.adapter?.authType ?? invocation.service.authType, value };
}

function extrasOf(headers: Headers): ProviderResponseExtras {
  const challengeHeaders: Record<string, string> = {};
  for (const name of X402_CHALLENGE_HEADERS) {
    const value = headers.get(name);
    if (value !== null) challengeHeaders[name] = value;
  }
  return { paymentResponse: headers.get('payment-response'), challengeHeaders };
}

/**
 * The body, read until its end or until it passes `MAX_RESPONSE_BYTES`: then the request is aborted and
 * the first `MAX_RESPONSE_BYTES` bytes are kept (a non-2xx error quotes its start).
 */
async function readBounded(response: Response, abort: AbortController): Promise<{ body: Buffer; tooLarge: boolean }> {
  if (response.body === null) return { body: Buffer.alloc(0), tooLarge: false };
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { body: Buffer.concat(chunks, size), tooLarge: false };
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      abort.abort();
      reader.cancel().catch(() => undefined);
      return { body: Buffer.concat(chunks, size).subarray(0, MAX_RESPONSE_BYTES), tooLarge: true };
    }
  }
}

/** `<code> <where>` when the error chain says the request never reached the target, else null. */
function notReachedDetail(error: unknown): string | null {
  for (const cause of causeChain(error)) {
    const code = typeof cause.code === 'string' ? cause.code : null;
    if (code === null || !(NOT_REACHED_CODES.has(code) || isTlsCode(code))) continue;
    if (typeof cause.address === 'string')
      return typeof cause.port === 'number' ? `${code} ${cause.address}:${cause.port}` : `${code} ${cause.address}`;
    if (typeof cause.hostname === 'string') return `${code} ${cause.hostname}`;
    return `${code} ${shortMessage(cause.message)}`;
  }
  return null;
}

function isTlsCode(code: string): boolean {
  return code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code === 'EPROTO' || CERTIFICATE_CODES.has(code);
}

type ErrorLike = {
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
};

/** The error, its `cause`s and, for an `AggregateError` (happy eyeballs), its first error. */
function causeChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = error;
  while (chain.length < 5 && current !== null && typeof current === 'object') {
    const item = current as ErrorLike;
    chain.push(item);
    if (Array.isArray(item.errors) && item.errors.length > 0 && item.errors[0] !== null && typeof item.errors[0] === 'object')
      chain.push(item.errors[0] as ErrorLike);
    current = item.cause;
  }
  return chain;
}

/** The innermost message of the error chain with its code, on one line, shortened. */
function errorMessage(error: unknown): string {
  const chain = causeChain(error);
  const innermost = chain.length > 0 ? chain[chain.length - 1] : { message: String(error) };
  const message = typeof innermost.message === 'string' && innermost.message !== '' ? innermost.message : 'request failed';
  const code = typeof innermost.code === 'string' && !message.includes(innermost.code) ? ` (${innermost.code})` : '';
  const line = (message.split('\n')[0] + code).trim();
  return Array.from(line).slice(0, MESSAGE_CHARACTERS).join('');
}

/** The reason of an OpenSSL error string (`<id>:error:<code>:<lib>:<func>:<reason>:<file>:<line>:`), else the first line. */
function shortMessage(message: unknown): string {
  if (typeof message !== 'string' || message === '') return 'failed';
  const openssl = /^[0-9A-Fa-f]+:error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+):/.exec(message);
  const line = openssl !== null ? openssl[1] : message.split('\n')[0];
  return Array.from(line.trim()).slice(0, MESSAGE_CHARACTERS).join('');
}

/** An answer without an HTTP status (see the class comment). */
function noStatus(message: string): AttemptResult {
  return { kind: 'response', status: 0, contentType: null, body: message, sizeBytes: 0 };
}
