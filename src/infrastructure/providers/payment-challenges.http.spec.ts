import { ChallengeRequest } from '../../application/ports/payment-challenges.port';
import { ProviderInvocation } from '../../application/ports/provider-adapter.port';
import { CatalogService, MarketServiceEndpoint } from '../../domain/catalog/catalog-types';
import { MAX_RESPONSE_BYTES } from '../../domain/task/dispatch-result';
import { HttpProviderAdapter } from './http-provider.adapter';
import { HttpPaymentChallenges } from './payment-challenges.http';
import { closedPortUrl } from '../../../test/support/anvil/fake-rpc-server';
import { ProviderServer } from '../../../test/support/provider-server';

const FETCHED_AT = '2026-05-04T10:00:00.000Z';
const TIMEOUT_MS = 1000;

function requirements(nonce: string): Record<string, unknown> {
  return { x402Version: 1, accepts: [{ scheme: 'exact', network: 'base', maxAmountRequired: '10000', extra: { nonce } }] };
}

/** A JSON document of more than `MAX_RESPONSE_BYTES` bytes. */
function oversizedJson(): string {
  const body = JSON.stringify({ ...requirements('from-body'), padding: 'x'.repeat(MAX_RESPONSE_BYTES) });
  expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_RESPONSE_BYTES);
  return body;
}

describe('HttpPaymentChallenges (§7.5.4 step 7) against a local HTTP server', () => {
  // Connections stay open after each test: the client ends every answer it leaves unfinished (timeout,
  // unread body), and a pooled keep-alive connection closed between two tests may fail the next request.
  const provider = new ProviderServer({ defaultHandler: (_req, res) => res.writeHead(500).end(), closeConnectionsOnReset: false });
  const challenges = new HttpPaymentChallenges({ timeoutMs: TIMEOUT_MS }, { now: () => new Date(FETCHED_AT) });

  beforeAll(() => provider.start());
  afterAll(() => provider.stop());
  afterEach(() => provider.reset());

  const request = (endpoint: Partial<MarketServiceEndpoint> = {}, extra: Partial<ChallengeRequest> = {}): ChallengeRequest => ({
    endpoint: {
      operation: null,
      path: '/price',
      method: 'POST',
      protocols: [],
      networks: [],
      ...endpoint,
      url: endpoint.url ?? provider.url,
    },
    input: { symbol: 'ETH/USD', days: 3, nested: { a: 1 } },
    correlationId: 'corr-challenge-1',
    ...extra,
  });

  describe('the request is the one execution sends (§8.5.4)', () => {
    it.each(['POST', 'get', 'DELETE', 'put', undefined])(
      'method %s: the same method, URL, query, body and headers as HttpProviderAdapter with Authorization and SIGN-IN-WITH-X',
      async (method) => {
        const endpoint = { operation: null, url: provider.url, path: '/price?v=2', method: method ?? null, protocols: [], networks: [] };
        const challenge = request(endpoint, { authorization: 'Bearer abc', signInWithX: 'siwx-1' });
        await challenges.fetch(challenge);

        const routeUrl = `${provider.url}/price?v=2`;
        const invocation: ProviderInvocation = {
          route: { target: 'provider', url: routeUrl, runtimeEndpointId: null, reason: `provider endpoint ${routeUrl}` },
          service: { providerKey: 'acme', authType: 'none', endpoints: [endpoint] } as unknown as CatalogService,
          adapter: null,
          orderId: 'ord_1',
          taskId: 'task_1',
          runId: 'run_1',
          attempt: 1,
          machineId: 'mach_1',
          operation: 'quote',
          input: challenge.input,
          paymentHeaders: { authorization: 'Bearer abc', signInWithX: 'siwx-1' },
          providerCredentials: null,
          correlationId: challenge.correlationId,
          timeoutMs: TIMEOUT_MS,
        };
        await new HttpProviderAdapter().invoke(invocation);

        expect(provider.requests).toHaveLength(2);
        const [fetched, executed] = provider.requests;
        expect(fetched).toEqual(executed);
        expect(fetched.method).toBe((method ?? 'POST').toUpperCase());
        expect(fetched.headers.authorization).toBe('Bearer abc');
        expect(fetched.headers['sign-in-with-x']).toBe('siwx-1');
        expect(fetched.headers['x-correlation-id']).toBe('corr-challenge-1');
      },
    );

    it('sends no Authorization and no SIGN-IN-WITH-X when they are not given, and no other payment header', async () => {
      await challenges.fetch(request());
      const [sent] = provider.requests;
      expect(sent.headers.authorization).toBeUndefined();
      expect(sent.headers['sign-in-with-x']).toBeUndefined();
      expect(sent.headers['x-payment']).toBeUndefined();
      expect(sent.headers['payment-signature']).toBeUndefined();
      expect(sent.headers['x-api-key']).toBeUndefined();
    });
  });

  describe('the outcome', () => {
    it('402 with a JSON body → the challenge: the body as paymentRequired, the two challenge headers verbatim, fetchedAt now', async () => {
      provider.handler = (_req, res) =>
        res
          .writeHead(402, { 'content-type': 'application/json', 'www-authenticate': 'x402 realm="acme"', 'x-other': 'dropped' })
          .end(JSON.stringify(requirements('json')));
      expect(await challenges.fetch(request())).toEqual({
        ok: true,
        challenge: {
          protocol: 'x402',
          httpStatus: 402,
          paymentRequired: requirements('json'),
          headers: { 'www-authenticate': 'x402 realm="acme"' },
          fetchedAt: FETCHED_AT,
        },
      });
    });

    it('402 with a JSON body over 1 MiB → the body is not read in full: paymentRequired from the payment-required header', async () => {
      const header = Buffer.from(JSON.stringify(requirements('from-header'))).toString('base64');
      const body = oversizedJson();
      provider.handler = (_req, res) => res.writeHead(402, { 'content-type': 'application/json', 'payment-required': header }).end(body);
      expect(await challenges.fetch(request())).toEqual({
        ok: true,
        challenge: {
          protocol: 'x402',
          httpStatus: 402,
          paymentRequired: requirements('from-header'),
          headers: { 'payment-required': header },
          fetchedAt: FETCHED_AT,
        },
      });
    });

    it('402 with a JSON body over 1 MiB and no payment-required header → paymentRequired null', async () => {
      const body = oversizedJson();
      provider.handler = (_req, res) => res.writeHead(402, { 'content-type': 'application/json' }).end(body);
      const result = await challenges.fetch(request());
      expect(result).toEqual({ ok: true, challenge: expect.objectContaining({ paymentRequired: null, headers: {} }) });
    });

    it('402 with a body that never ends → timeout (the body is read within the bound)', async () => {
      provider.handler = (_req, res) => {
        res.writeHead(402, { 'content-type': 'application/json' });
        res.write('{"x402Version":1,');
      };
      expect(await challenges.fetch(request())).toEqual({ ok: false, reason: 'timeout' });
    });

    it.each([200, 500, 503])('%i → unexpected_status with providerStatus', async (status) => {
      provider.handler = (_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
      expect(await challenges.fetch(request())).toEqual({ ok: false, reason: 'unexpected_status', providerStatus: status });
    });

    it('a non-402 answer over 1 MiB → unexpected_status', async () => {
      const body = oversizedJson();
      provider.handler = (_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end(body);
      expect(await challenges.fetch(request())).toEqual({ ok: false, reason: 'unexpected_status', providerStatus: 500 });
    });

    it('a non-402 answer whose body never ends → unexpected_status at once: its body is not read', async () => {
      provider.handler = (_req, res) => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.write('busy');
      };
      const started = Date.now();
      expect(await challenges.fetch(request())).toEqual({ ok: false, reason: 'unexpected_status', providerStatus: 503 });
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
    });

    it('no answer within the timeout → timeout', async () => {
      provider.handler = () => undefined;
      const started = Date.now();
      expect(await challenges.fetch(request())).toEqual({ ok: false, reason: 'timeout' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(provider.requests).toHaveLength(1);
    });

    it('a closed port → network', async () => {
      const url = await closedPortUrl();
      expect(await challenges.fetch(request({ url }))).toEqual({ ok: false, reason: 'network' });
    });

    it('the connection closed without an answer → network', async () => {
      provider.handler = (req) => req.socket.destroy();
      expect(await challenges.fetch(request())).toEqual({ ok: false, reason: 'network' });
    });

    it.each([
      ['a URL that does not parse', { url: 'not a url' }],
      ['a port out of range', { url: 'http://127.0.0.1:70000' }],
      ['a path that makes the URL invalid', { path: ':bad' }],
    ])('%s → network, nothing thrown and nothing sent', async (_label, endpoint) => {
      await expect(challenges.fetch(request(endpoint))).resolves.toEqual({ ok: false, reason: 'network' });
      expect(provider.requests).toHaveLength(0);
    });

    it('a header value fetch refuses → network, nothing sent', async () => {
      await expect(challenges.fetch(request({}, { authorization: 'Bearer a\nb' }))).resolves.toEqual({ ok: false, reason: 'network' });
      expect(provider.requests).toHaveLength(0);
    });
  });
});
