import { AddressInfo, createServer as createTcpServer, Socket } from 'node:net';
import { ProviderAnswer, ProviderInvocation } from '../../application/ports/provider-adapter.port';
import { AdapterSetup, AuthType, CatalogService, MarketServiceEndpoint } from '../../domain/catalog/catalog-types';
import { AttemptResult, judgeAttempt, MAX_RESPONSE_BYTES } from '../../domain/task/dispatch-result';
import { RouteCandidate } from '../../domain/task/route-resolution';
import { closedPortUrl } from '../../../test/support/anvil/fake-rpc-server';
import { json, ProviderServer } from '../../../test/support/provider-server';
import { HttpProviderAdapter } from './http-provider.adapter';

type InvocationOptions = Partial<Omit<ProviderInvocation, 'service' | 'route'>> & {
  url: string;
  endpoints?: Array<Partial<MarketServiceEndpoint>>;
  authType?: AuthType;
};

/** An invocation of the provider route `url`; the service has the fields the adapter reads. */
function invocation(options: InvocationOptions): ProviderInvocation {
  const { url, endpoints, authType, ...rest } = options;
  const service = {
    id: 'svc_acme_weather',
    name: 'Acme weather',
    providerKey: 'acme',
    authType: authType ?? 'none',
    endpoints: (endpoints ?? [{ operation: null, url, method: 'POST' }]).map((e) => ({ protocols: [], networks: [], ...e })),
  } as unknown as CatalogService;
  const route: RouteCandidate = { target: 'provider', url, runtimeEndpointId: null, reason: `provider endpoint ${url}` };
  return {
    route,
    service,
    adapter: null,
    orderId: 'ord_1',
    taskId: 'task_1',
    runId: 'run_1',
    attempt: 1,
    machineId: 'mach_1',
    operation: 'weather.current',
    input: { city: 'Berlin' },
    paymentHeaders: null,
    providerCredentials: null,
    correlationId: 'corr-123',
    timeoutMs: 5_000,
    ...rest,
  };
}

function adapterSetup(authType: AuthType, credentialFields?: AdapterSetup['credentialFields']): AdapterSetup {
  return {
    providerKey: 'acme',
    label: 'Acme',
    integrationStatus: 'credentials-required',
    authType,
    credentialFields: credentialFields ?? [{ key: 'apiToken', label: 'API token', secret: true, required: true }],
    runtimeEndpointRequired: false,
    docsUrl: null,
    notes: [],
  };
}

function attemptOf(answer: ProviderAnswer): Extract<ProviderAnswer, { kind: 'attempt' }> {
  if (answer.kind !== 'attempt') throw new Error(`expected an attempt, got ${answer.kind}`);
  return answer;
}

function responseOf(answer: ProviderAnswer): Extract<AttemptResult, { kind: 'response' }> {
  const { result } = attemptOf(answer);
  if (result.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(result)}`);
  return result;
}

function bodyText(body: Buffer | string): string {
  return typeof body === 'string' ? body : body.toString('utf8');
}

describe('HttpProviderAdapter (§8.5.4 provider target) against a local HTTP server', () => {
  // Requests a test left unanswered (timeouts) must not outlive it.
  const provider = new ProviderServer({ defaultHandler: (_req, res) => json(res, 200, { ok: true }), closeConnectionsOnReset: true });
  const adapter = new HttpProviderAdapter();

  beforeAll(() => provider.start());
  afterAll(() => provider.stop());
  afterEach(() => provider.reset());

  describe('routing', () => {
    it('handles provider routes only, not runtime-endpoint or handoff routes', () => {
      const service = invocation({ url: 'http://x' }).service;
      const route = (target: RouteCandidate['target']): RouteCandidate => ({
        target,
        url: 'http://x',
        runtimeEndpointId: null,
        reason: '',
      });
      expect(adapter.name).toBe('http-provider');
      expect(adapter.handles(route('provider'), service)).toBe(true);
      expect(adapter.handles(route('runtime-endpoint'), service)).toBe(false);
      expect(adapter.handles(route('handoff'), service)).toBe(false);
    });
  });

  describe('request', () => {
    it('POSTs the input as JSON to the route URL with Content-Type, Accept and x-correlation-id', async () => {
      const input = { city: 'Berlin', units: { temperature: 'C' }, days: [1, 2] };
      await adapter.invoke(invocation({ url: `${provider.url}/v1/weather`, input }));

      const request = provider.only();
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v1/weather');
      expect(JSON.parse(request.body)).toEqual(input);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers.accept).toBe('application/json');
      expect(request.headers['x-correlation-id']).toBe('corr-123');
    });

    it('defaults the method to POST when the endpoint has none', async () => {
      await adapter.invoke(invocation({ url: provider.url, endpoints: [{ operation: null, url: provider.url }] }));
      expect(provider.only().method).toBe('POST');
    });

    it('upper-cases the endpoint method and sends a JSON body for methods other than GET and DELETE', async () => {
      await adapter.invoke(invocation({ url: provider.url, endpoints: [{ operation: null, url: provider.url, method: 'put' }] }));
      const request = provider.only();
      expect(request.method).toBe('PUT');
      expect(JSON.parse(request.body)).toEqual({ city: 'Berlin' });
    });

    it.each(['GET', 'get', 'DELETE'])(
      'sends %s with string, number and boolean input members as query parameters, drops other members, sends no body',
      async (method) => {
        const input = { city: 'Berlin', days: 3, metric: true, units: { temperature: 'C' }, ids: [1, 2], nothing: null };
        await adapter.invoke(
          invocation({ url: `${provider.url}/v1/weather?api=2`, endpoints: [{ operation: null, url: provider.url, method }], input }),
        );

        const request = provider.only();
        expect(request.method).toBe(method.toUpperCase());
        expect(request.path).toBe('/v1/weather');
        expect(Object.fromEntries(request.query)).toEqual({ api: '2', city: 'Berlin', days: '3', metric: 'true' });
        expect(request.body).toBe('');
        expect(request.headers['content-type']).toBeUndefined();
        expect(request.headers.accept).toBe('application/json');
      },
    );

    it('takes the method of the endpoint for the operation over the one without an operation', async () => {
      const endpoints = [
        { operation: null, url: provider.url, method: 'DELETE' },
        { operation: 'weather.forecast', url: provider.url, method: 'PATCH' },
        { operation: 'weather.current', url: provider.url, method: 'GET' },
      ];
      await adapter.invoke(invocation({ url: provider.url, endpoints, operation: 'weather.current' }));
      expect(provider.only().method).toBe('GET');
    });

    it('falls back to the first endpoint without an operation when none is for the operation', async () => {
      const endpoints = [
        { operation: 'weather.forecast', url: provider.url, method: 'GET' },
        { operation: undefined, url: provider.url, method: 'PUT' },
        { operation: null, url: provider.url, method: 'DELETE' },
      ];
      await adapter.invoke(invocation({ url: provider.url, endpoints, operation: 'weather.current' }));
      expect(provider.only().method).toBe('PUT');
    });

    it('maps xPayment, paymentSignature, authorization and signInWithX to X-PAYMENT, PAYMENT-SIGNATURE, Authorization, SIGN-IN-WITH-X', async () => {
      const paymentHeaders = {
        xPayment: 'x-pay-token',
        paymentSignature: 'sig-value',
        authorization: 'Payment abc',
        signInWithX: 'siwx-value',
      };
      await adapter.invoke(invocation({ url: provider.url, paymentHeaders }));

      const { headers } = provider.only();
      expect(headers['x-payment']).toBe('x-pay-token');
      expect(headers['payment-signature']).toBe('sig-value');
      expect(headers.authorization).toBe('Payment abc');
      expect(headers['sign-in-with-x']).toBe('siwx-value');
    });

    it('sends no payment header that was not given', async () => {
      await adapter.invoke(invocation({ url: provider.url, paymentHeaders: { xPayment: 'x-pay-token' } }));
      const { headers } = provider.only();
      expect(headers['x-payment']).toBe('x-pay-token');
      expect(headers['payment-signature']).toBeUndefined();
      expect(headers.authorization).toBeUndefined();
      expect(headers['sign-in-with-x']).toBeUndefined();
    });
  });

  describe('credentials', () => {
    const providerCredentials = {
      acme: { accountId: 'acct-1', optionalSecret: 'opt', apiToken: 'tok-secret', other: 'other' },
      beta: { apiToken: 'wrong' },
    };
    const fields: AdapterSetup['credentialFields'] = [
      { key: 'accountId', label: 'Account', secret: false, required: true },
      { key: 'optionalSecret', label: 'Optional', secret: true, required: false },
      { key: 'apiToken', label: 'API token', secret: true, required: true },
      { key: 'other', label: 'Other', secret: true, required: true },
    ];

    it('bearer: sends Authorization: Bearer <first required secret field> of the service provider key', async () => {
      await adapter.invoke(
        invocation({ url: provider.url, authType: 'bearer', adapter: adapterSetup('bearer', fields), providerCredentials }),
      );
      const { headers } = provider.only();
      expect(headers.authorization).toBe('Bearer tok-secret');
      expect(headers['x-api-key']).toBeUndefined();
    });

    it('bearer: paymentHeaders.authorization wins and the credential is not sent', async () => {
      await adapter.invoke(
        invocation({
          url: provider.url,
          adapter: adapterSetup('bearer', fields),
          providerCredentials,
          paymentHeaders: { authorization: 'Payment from-client' },
        }),
      );
      const { headers } = provider.only();
      expect(headers.authorization).toBe('Payment from-client');
      expect(JSON.stringify(headers)).not.toContain('tok-secret');
    });

    it('bearer: sends no Authorization when the provider key has no value for the field', async () => {
      await adapter.invoke(
        invocation({ url: provider.url, adapter: adapterSetup('bearer', fields), providerCredentials: { beta: { apiToken: 'wrong' } } }),
      );
      expect(provider.only().headers.authorization).toBeUndefined();
    });

    it('api-key: sends x-api-key: <first required secret field>, alongside a payment Authorization', async () => {
      await adapter.invoke(
        invocation({
          url: provider.url,
          adapter: adapterSetup('api-key', fields),
          providerCredentials,
          paymentHeaders: { authorization: 'Payment p' },
        }),
      );
      const { headers } = provider.only();
      expect(headers['x-api-key']).toBe('tok-secret');
      expect(headers.authorization).toBe('Payment p');
    });

    it.each<AuthType>(['none', 'wallet', 'local'])('%s: sends no credential even when one is given', async (authType) => {
      await adapter.invoke(invocation({ url: provider.url, authType, adapter: adapterSetup(authType, fields), providerCredentials }));
      const { headers } = provider.only();
      expect(headers.authorization).toBeUndefined();
      expect(headers['x-api-key']).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain('tok-secret');
    });

    it("uses the adapter's authType over the service's", async () => {
      await adapter.invoke(
        invocation({
          url: provider.url,
          authType: 'none',
          adapter: adapterSetup('api-key'),
          providerCredentials: { acme: { apiToken: 't' } },
        }),
      );
      expect(provider.only().headers['x-api-key']).toBe('t');
    });
  });

  describe('answers', () => {
    it('returns a 2xx JSON answer with its status, content type, body and size', async () => {
      provider.handler = (_req, res) => json(res, 201, { temperature: 21.5 });
      const answer = await adapter.invoke(invocation({ url: provider.url }));

      const result = responseOf(answer);
      expect(result.status).toBe(201);
      expect(result.contentType).toBe('application/json');
      expect(JSON.parse(bodyText(result.body))).toEqual({ temperature: 21.5 });
      expect(result.sizeBytes).toBe(Buffer.byteLength(JSON.stringify({ temperature: 21.5 })));
      expect(attemptOf(answer).extras).toEqual({ paymentResponse: null, challengeHeaders: {} });
      expect(judgeAttempt(result)).toEqual({ runStatus: 'succeeded', error: null, tryNext: false });
    });

    it('returns a text answer with its content type as received', async () => {
      provider.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('sunny, 21 °C');
      };
      const result = responseOf(await adapter.invoke(invocation({ url: provider.url })));
      expect(result.contentType).toBe('text/plain; charset=utf-8');
      expect(bodyText(result.body)).toBe('sunny, 21 °C');
      expect(result.sizeBytes).toBe(Buffer.byteLength('sunny, 21 °C'));
    });

    it('returns a 402 with the payment-required and www-authenticate headers verbatim in extras', async () => {
      const requirement = Buffer.from(JSON.stringify({ x402Version: 1, accepts: [] })).toString('base64');
      provider.handler = (_req, res) =>
        json(res, 402, { error: 'payment required' }, { 'payment-required': requirement, 'www-authenticate': 'Payment realm="acme"' });
      const answer = await adapter.invoke(invocation({ url: provider.url }));

      expect(responseOf(answer).status).toBe(402);
      expect(attemptOf(answer).extras).toEqual({
        paymentResponse: null,
        challengeHeaders: { 'payment-required': requirement, 'www-authenticate': 'Payment realm="acme"' },
      });
    });

    it('returns the payment-response header verbatim in extras', async () => {
      const settlement = Buffer.from(JSON.stringify({ transaction: '0xabc', network: 'base-sepolia' })).toString('base64');
      provider.handler = (_req, res) => json(res, 200, { ok: true }, { 'payment-response': settlement });
      const answer = await adapter.invoke(invocation({ url: provider.url, paymentHeaders: { xPayment: 'x' } }));
      expect(attemptOf(answer).extras?.paymentResponse).toBe(settlement);
    });

    it('returns a 500 as a response with its body (the domain makes it "HTTP 500: ...")', async () => {
      provider.handler = (_req, res) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal failure');
      };
      const result = responseOf(await adapter.invoke(invocation({ url: provider.url })));
      expect(result.status).toBe(500);
      expect(bodyText(result.body)).toBe('internal failure');
      expect(judgeAttempt(result).error).toBe('HTTP 500: internal failure');
    });

    it('does not follow redirects: a 301 is returned as the answer and the Location is not requested', async () => {
      provider.handler = (_req, res) => {
        res.writeHead(301, { location: '/elsewhere', 'content-type': 'text/plain' });
        res.end('moved');
      };
      const result = responseOf(await adapter.invoke(invocation({ url: `${provider.url}/v1/weather` })));
      expect(result.status).toBe(301);
      expect(provider.requests.map((r) => r.path)).toEqual(['/v1/weather']);
    });

    it('stops reading a body past 1 MiB (from a server that never ends it) and reports sizeBytes > MAX_RESPONSE_BYTES', async () => {
      provider.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      };
      const started = Date.now();
      const result = responseOf(await adapter.invoke(invocation({ url: provider.url, timeoutMs: 10_000 })));

      expect(Date.now() - started).toBeLessThan(5_000);
      expect(result.status).toBe(200);
      expect(result.sizeBytes).toBeGreaterThan(MAX_RESPONSE_BYTES);
      expect(result.body.length).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
      expect(judgeAttempt(result).error).toBe('response too large');
    });

    it('accepts a body of exactly 1 MiB', async () => {
      provider.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.alloc(MAX_RESPONSE_BYTES, 0x62));
      };
      const result = responseOf(await adapter.invoke(invocation({ url: provider.url })));
      expect(result.sizeBytes).toBe(MAX_RESPONSE_BYTES);
      expect(judgeAttempt(result).runStatus).toBe('succeeded');
    });
  });

  describe('failures', () => {
    it('reports a refused connection as connection_failed with ECONNREFUSED and the address', async () => {
      const port = new URL(await closedPortUrl()).port;
      const { result, extras } = attemptOf(await adapter.invoke(invocation({ url: `http://127.0.0.1:${port}/v1` })));
      expect(result).toEqual({ kind: 'connection_failed', detail: `ECONNREFUSED 127.0.0.1:${port}` });
      expect(extras).toBeUndefined();
      expect(judgeAttempt(result).tryNext).toBe(true);
    });

    it('reports a TLS handshake failure as connection_failed with the TLS error code and reason', async () => {
      // A plain TCP server answering the TLS ClientHello with HTTP/1.1 text.
      const sockets = new Set<Socket>();
      const notTls = createTcpServer((socket) => {
        sockets.add(socket);
        socket.resume();
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      });
      await new Promise<void>((resolve) => notTls.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = notTls.address() as AddressInfo;
        const { result } = attemptOf(await adapter.invoke(invocation({ url: `https://127.0.0.1:${port}/`, timeoutMs: 5_000 })));
        expect(result).toEqual({ kind: 'connection_failed', detail: expect.stringMatching(/^(ERR_SSL_|EPROTO)\S* \S/) });
        expect(judgeAttempt(result).tryNext).toBe(true);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => notTls.close(() => resolve()));
      }
    });

    it('reports a server that never answers as a timeout of timeoutMs', async () => {
      provider.handler = () => undefined;
      const started = Date.now();
      const { result } = attemptOf(await adapter.invoke(invocation({ url: provider.url, timeoutMs: 200 })));
      expect(result).toEqual({ kind: 'timeout', ms: 200 });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(provider.requests).toHaveLength(1);
    });

    it('bounds the body read by timeoutMs too, and keeps the payment-response header of the stalled answer', async () => {
      provider.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'payment-response': 'c2V0dGxlZA==' });
        res.write('{"partial":');
      };
      const { result, extras } = attemptOf(await adapter.invoke(invocation({ url: provider.url, timeoutMs: 200 })));
      expect(result).toEqual({ kind: 'timeout', ms: 200 });
      expect(extras?.paymentResponse).toBe('c2V0dGxlZA==');
    });

    it('reports a connection closed after the request was sent as an answer without status (0), not connection_failed', async () => {
      provider.handler = (req) => req.socket.destroy();
      const result = responseOf(await adapter.invoke(invocation({ url: provider.url })));
      expect(result.status).toBe(0);
      expect(result.contentType).toBeNull();
      expect(bodyText(result.body).length).toBeGreaterThan(0);
      expect(judgeAttempt(result)).toMatchObject({ runStatus: 'failed', tryNext: false });
    });

    it('reports an invalid header value without quoting it and without sending anything', async () => {
      const { result } = attemptOf(await adapter.invoke(invocation({ url: provider.url, paymentHeaders: { xPayment: 'top\nsecret' } })));
      expect(result).toEqual({
        kind: 'response',
        status: 0,
        contentType: null,
        body: 'invalid value of the X-PAYMENT header',
        sizeBytes: 0,
      });
      expect(provider.requests).toHaveLength(0);
    });
  });
});
