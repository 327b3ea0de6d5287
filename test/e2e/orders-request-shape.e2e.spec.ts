import { randomUUID } from 'node:crypto';
import { fileService, fixedPrice } from '../support/catalog-fixture';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { OrderAgent, OrderApi } from '../support/order-api';
import { acmeCatalogFile, FREE_PAYMENT, VAULT_ADAPTER, VAULT_SERVICE, X402_PAYMENT } from '../support/order-catalog';
import { jsonChallenge, Json, orderUrl, PaymentApi, placeOrder, requirements, usePaymentAgent, X402Provider } from '../support/payment-api';
import { TestApp, TestResponse } from '../support/test-app';

/**
 * Request-shape validation (step 5 of §0.14) of the order routes over HTTP: payment headers without
 * control characters (§0.7), the 64 KiB limit of free-form objects judged before the Idempotency-Key
 * (§0.11, §7.5.2, §7.5.10, §7.5.12), `null` provider-credential members as absent (§0.3, §6.1), and
 * bodies that may be left out (§0.2). Every provider listens on 127.0.0.1.
 */

const T0 = '2026-05-04T10:00:00.000Z';
const FREE_FORM_MESSAGE = (member: string) => `${member} must be at most 64 KiB as canonical JSON`;
/** `{"symbol":"…"}` is 13 bytes plus the value: an `input` of exactly `bytes` as canonical JSON. */
const sized = (bytes: number) => ({ symbol: 'x'.repeat(bytes - 13) });

const provider = new X402Provider();

const at = (path: string, payment: Json = FREE_PAYMENT, extra: Json = {}) => ({
  pricing: fixedPrice(0.1, 'USDT'),
  payment,
  endpoints: [{ url: `${provider.url}${path}`, method: 'POST', protocols: [], networks: [] }],
  ...extra,
});

const catalog = (): Json =>
  acmeCatalogFile(
    [
      fileService('shape.ok', at('/ok')),
      fileService('shape.x402', { ...at('/x402', X402_PAYMENT), pricing: fixedPrice(0.01, 'USDC') }),
      fileService('shape.vault', { ...at('/vault'), ...VAULT_SERVICE }),
    ],
    [VAULT_ADAPTER],
  );

beforeAll(async () => {
  await provider.start();
  const json = (body: unknown) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  provider.replies.set('/ok', (r) => json({ price: 3120.5, echo: JSON.parse(r.body) }));
  provider.replies.set('/vault', () => json({ price: 7 }));
  provider.replies.set('/x402', (r) =>
    r.headers['x-payment'] === undefined ? jsonChallenge(requirements('shape')) : json({ price: 1.5 }),
  );
});
afterAll(async () => {
  await provider.stop();
});

describe('order request shape (§0.14 step 5)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let agent: OrderAgent;
  usePaymentAgent({ clock, catalog, env: () => ({ PEAQOS_EXECUTE_TIMEOUT_MS: '2000' }) }, (app) => ({ t, orders, payments, agent } = app));

  const post = (url: string, body: Json | undefined, headers: Record<string, string> = {}) =>
    t.inject({
      method: 'POST',
      url,
      headers: { 'x-agent-pairing-token': agent.token, ...headers },
      ...(body === undefined ? {} : { payload: body }),
    });
  const execute = (orderId: string, body: Json = {}, headers: Record<string, string> = {}) =>
    post(`${orderUrl(orderId)}/execute`, body, headers);
  const withKey = (key: string) => ({ 'idempotency-key': key });

  /** Every stored event, internal streams (idempotency reservations) included. */
  const allEvents = async () => (await t.storedEvents({ includeInternal: true })).map((e) => `${e.type} ${e.streamId}`);
  /** The response of `request`, asserting that it appended nothing at all (not even an idempotency record). */
  async function writesNothing(request: () => Promise<TestResponse>): Promise<TestResponse> {
    const before = await allEvents();
    const response = await request();
    expect((await allEvents()).slice(before.length)).toEqual([]);
    return response;
  }
  /** 400 VALIDATION_ERROR whose `details` are exactly `errors` (no reason). */
  function expectIssues(response: TestResponse, errors: Array<{ path: string; message?: string }>): void {
    expectError(response, 400, 'VALIDATION_ERROR');
    expect(response.body.error.details).toEqual({
      errors: errors.map(({ path, message }) => ({ location: 'body', path, message: message ?? expect.any(String) })),
    });
  }

  describe('§0.7 payment headers without control characters', () => {
    const MEMBERS = ['xPayment', 'paymentSignature', 'authorization', 'signInWithX'] as const;
    const CONTROLS = ['\u0000', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085'];

    it.each(MEMBERS)(
      'execute: a control character in %s → 400 at /paymentHeaders/<member>; nothing written, the order untouched',
      async (member) => {
        const order = await placeOrder(orders, agent, 'shape.ok');
        const calls = provider.requestsTo('/ok').length;
        for (const control of CONTROLS) {
          const response = await writesNothing(() =>
            execute(order.id, { paymentHeaders: { [member]: `value${control}injected` } }, withKey(`exec-${member}-${randomUUID()}`)),
          );
          expectIssues(response, [{ path: `/paymentHeaders/${member}` }]);
          expect(response.body.error.details.errors[0].message).toMatch(/control characters/);
        }
        expect(provider.requestsTo('/ok')).toHaveLength(calls);
        expect(await payments.order(order.id)).toMatchObject({ status: 'created', taskId: null });
      },
    );

    it.each(MEMBERS)('payment-intent: a control character in %s → 400 at /paymentHeaders/<member>; nothing written', async (member) => {
      const order = await placeOrder(orders, agent, 'shape.x402');
      for (const control of CONTROLS) {
        const response = await writesNothing(() =>
          payments.intent(
            order.id,
            agent.token,
            { paymentHeaders: { [member]: `${control}value` } },
            '',
            withKey(`intent-${randomUUID()}`),
          ),
        );
        expectIssues(response, [{ path: `/paymentHeaders/${member}` }]);
      }
      expect(await payments.order(order.id)).toMatchObject({ status: 'created' });
      expect((await payments.get(order.id)).status).toBe(404);
    });

    it('every control-character issue is reported at once, with the other shape issues', async () => {
      const order = await placeOrder(orders, agent, 'shape.ok');
      const response = await writesNothing(() =>
        execute(order.id, { paymentHeaders: { xPayment: 'a\u0001', authorization: 'Bearer \u0000' }, extra: true }),
      );
      expectError(response, 400, 'VALIDATION_ERROR');
      expect(response.body.error.details.errors.map((e: Json) => e.path).sort()).toEqual(
        ['/extra', '/paymentHeaders/authorization', '/paymentHeaders/xPayment'].sort(),
      );
    });

    it('printable headers pass: execute delivers and forwards them; 16,384 characters pass, 16,385 and empty do not', async () => {
      const order = await placeOrder(orders, agent, 'shape.ok');
      const signInWithX = `siwx café ${randomUUID()}`;
      const response = await execute(order.id, { paymentHeaders: { signInWithX } });
      expect(response.status).toBe(200);
      expect(response.body.item.order.status).toBe('delivered');
      expect(provider.requestsTo('/ok').at(-1)!.headers['sign-in-with-x']).toBe(signInWithX);

      // The longest header passes validation and reaches the endpoint's own checks (step 6: credentials).
      const vault = await placeOrder(orders, agent, 'shape.vault');
      const longest = await execute(vault.id, { paymentHeaders: { xPayment: 'é'.repeat(16_384) } });
      expectError(longest, 400, 'VALIDATION_ERROR');
      expect(longest.body.error.details.reason).toBe('provider_credentials_required');
      expectIssues(await execute(vault.id, { paymentHeaders: { xPayment: 'x'.repeat(16_385) } }), [{ path: '/paymentHeaders/xPayment' }]);
      expectIssues(await execute(vault.id, { paymentHeaders: { xPayment: '' } }), [{ path: '/paymentHeaders/xPayment' }]);
    });
  });

  describe('64 KiB free-form objects, judged before the Idempotency-Key (§0.11, §0.14)', () => {
    it('create: an oversized input with a key → 400 at /input, nothing written; the same key with a valid body then creates the order', async () => {
      const key = `create-${randomUUID()}`;
      const oversized = { machineId: agent.machineId, serviceId: 'shape.ok', input: sized(65_537) };
      const refused = await writesNothing(() => orders.create(oversized, agent.token, withKey(key)));
      expectIssues(refused, [{ path: '/input', message: FREE_FORM_MESSAGE('input') }]);

      // The refusal was not recorded under the key: the same body is judged again (not replayed) …
      const again = await writesNothing(() => orders.create(oversized, agent.token, withKey(key)));
      expectIssues(again, [{ path: '/input', message: FREE_FORM_MESSAGE('input') }]);
      expect(again.headers['idempotency-replayed']).toBeUndefined();

      // … and another body under the same key runs (no 422 IDEMPOTENCY_KEY_REUSED, no replayed 400).
      const created = await orders.create(
        { machineId: agent.machineId, serviceId: 'shape.ok', input: sized(65_536) },
        agent.token,
        withKey(key),
      );
      expect(created.status).toBe(201);
      expect(created.headers['idempotency-replayed']).toBeUndefined();
      const replayed = await orders.create(
        { machineId: agent.machineId, serviceId: 'shape.ok', input: sized(65_536) },
        agent.token,
        withKey(key),
      );
      expect(replayed.headers['idempotency-replayed']).toBe('true');
      expect(replayed.body).toEqual(created.body);
    });

    it('create: the size issue is merged with the other shape issues in one 400', async () => {
      const response = await writesNothing(() =>
        orders.create({ machineId: 42, serviceId: 'shape.ok', input: { blob: 'y'.repeat(70_000) }, unknown: 1 }, agent.token),
      );
      expectError(response, 400, 'VALIDATION_ERROR');
      const errors: Json[] = response.body.error.details.errors;
      expect(errors).toContainEqual({ location: 'body', path: '/input', message: FREE_FORM_MESSAGE('input') });
      expect(errors.map((e) => e.path).sort()).toEqual(['/input', '/machineId', '/unknown']);
    });

    it('execute: an oversized input with a key → 400 at /input, nothing written; the same key with a valid body then executes', async () => {
      const order = await placeOrder(orders, agent, 'shape.ok');
      const key = `execute-${randomUUID()}`;
      const refused = await writesNothing(() => execute(order.id, { input: sized(65_537) }, withKey(key)));
      expectIssues(refused, [{ path: '/input', message: FREE_FORM_MESSAGE('input') }]);
      expect(await payments.order(order.id)).toMatchObject({ status: 'created', taskId: null });

      const delivered = await execute(order.id, { input: { symbol: 'BTC/USD' } }, withKey(key));
      expect(delivered.status).toBe(200);
      expect(delivered.headers['idempotency-replayed']).toBeUndefined();
      expect(delivered.body.item.task.input).toEqual({ symbol: 'BTC/USD' });
    });

    it('dispute: an oversized evidence with a key → 400 at /evidence, nothing written; the same key with a valid body then reaches the state check', async () => {
      const order = await placeOrder(orders, agent, 'shape.ok');
      const key = `dispute-${randomUUID()}`;
      const dispute = (body: Json) => post(`${orderUrl(order.id)}/dispute`, body, withKey(key));
      const refused = await writesNothing(() => dispute({ reason: 'late', evidence: { blob: 'z'.repeat(70_000) } }));
      expectIssues(refused, [{ path: '/evidence', message: FREE_FORM_MESSAGE('evidence') }]);

      const conflict = await dispute({ reason: 'late', evidence: { photo: 'p.jpg' } });
      expectError(conflict, 409, 'ORDER_NOT_DELIVERED');
      expect(conflict.headers['idempotency-replayed']).toBeUndefined();
    });
  });

  describe('§0.3, §6.1 provider credentials: a null member is absent', () => {
    it('a null optional member is accepted and dropped; the required secret still reaches the provider', async () => {
      const order = await placeOrder(orders, agent, 'shape.vault');
      const apiKey = `vault-key-${randomUUID()}`;
      const response = await execute(order.id, { providerCredentials: { Vault: { apiKey, region: null } } });
      expect(response.status).toBe(200);
      expect(response.body.item.order.status).toBe('delivered');
      expect(provider.requestsTo('/vault').at(-1)!.headers['x-api-key']).toBe(apiKey);
    });

    it('a null required member counts as missing: 400 provider_credentials_required, not a shape error', async () => {
      const order = await placeOrder(orders, agent, 'shape.vault');
      const response = await writesNothing(() => execute(order.id, { providerCredentials: { vault: { apiKey: null, region: 'eu' } } }));
      expectError(response, 400, 'VALIDATION_ERROR');
      expect(response.body.error.details).toEqual({
        reason: 'provider_credentials_required',
        errors: [{ location: 'body', path: '/providerCredentials/vault/apiKey', message: expect.any(String) }],
      });
    });

    it('other non-string members are still refused at /providerCredentials', async () => {
      const order = await placeOrder(orders, agent, 'shape.vault');
      for (const value of [42, true, ['k'], { nested: 'k' }]) {
        expectIssues(await writesNothing(() => execute(order.id, { providerCredentials: { vault: { apiKey: value } } })), [
          { path: '/providerCredentials' },
        ]);
      }
      expectIssues(await execute(order.id, { providerCredentials: { vault: null } }), [{ path: '/providerCredentials' }]);
    });
  });

  describe('§0.2 bodies that may be left out', () => {
    it('an all-optional body may be absent, every time; a body with a required member may not', async () => {
      for (let i = 0; i < 2; i++) {
        const order = await placeOrder(orders, agent, 'shape.ok');
        expect((await post(`${orderUrl(order.id)}/payment-intent`, undefined)).status).toBe(201);
        expect((await post(`${orderUrl(order.id)}/execute`, undefined)).status).toBe(200);
        expectIssues(await post(`${orderUrl(order.id)}/dispute`, undefined), [
          { path: '', message: 'A JSON object request body is required' },
        ]);
        expect((await post(`${orderUrl(order.id)}/cancel`, undefined)).status).toBe(409);
      }
    });
  });
});
