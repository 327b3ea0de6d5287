import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_STORE, EventStore } from '../../src/application/ports/event-store.port';
import { ReadinessCheck } from '../../src/application/readiness/readiness.service';
import { writeCatalogFile } from '../support/catalog-fixture';
import { createNote } from '../support/probe/probe-requests';
import { expectError, UUID_V4 } from '../support/http-expectations';
import { startTestApp, TestApp, TestResponse, withTestApp } from '../support/test-app';

const API_KEY = 'health-readiness-key-0001';
const CHECK_NAMES = ['store', 'catalog', 'auth', 'runtime', 'skills', 'projections'];

function checkOf(response: TestResponse, name: ReadinessCheck['name']): ReadinessCheck | undefined {
  return (response.body.checks as ReadinessCheck[]).find((c) => c.name === name);
}

/** §3.2 ReadinessResponse: all six checks in order, each with the documented members only. */
function expectReadinessShape(response: TestResponse): void {
  expect(Object.keys(response.body).sort()).toEqual(['checks', 'status']);
  expect(response.body.checks.map((c: { name: string }) => c.name)).toEqual(CHECK_NAMES);
  for (const check of response.body.checks) {
    expect(['ok', 'warn', 'fail']).toContain(check.status);
    for (const key of Object.keys(check)) expect(['name', 'status', 'detail', 'latencyMs']).toContain(key);
    if (check.detail !== undefined) expect(typeof check.detail).toBe('string');
  }
  const statuses = response.body.checks.map((c: { status: string }) => c.status);
  const expected = statuses.includes('fail') ? 'not_ready' : statuses.includes('warn') ? 'degraded' : 'ready';
  expect(response.body.status).toBe(expected);
}

describe('GET /health (§3.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEYS: API_KEY } });
  });
  afterAll(() => t?.close());

  it('answers 200 with exactly {"ok":true} and a correlation id', async () => {
    const response = await t.inject({ method: 'GET', url: '/health' });
    expect(response.status).toBe(200);
    expect(response.text).toBe('{"ok":true}');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['x-correlation-id']).toMatch(UUID_V4);
  });

  it('never needs an API key, even when API-key auth is on', async () => {
    for (const headers of [{}, { 'x-api-key': 'wrong-key-wrong-key-wrong' }, { 'x-api-key': '' }]) {
      const response = await t.inject({ method: 'GET', url: '/health', headers });
      expect({ status: response.status, text: response.text }).toEqual({ status: 200, text: '{"ok":true}' });
    }
  });

  it('echoes a valid correlation id', async () => {
    const response = await t.inject({ method: 'GET', url: '/health', headers: { 'x-correlation-id': 'health-check-1' } });
    expect(response.headers['x-correlation-id']).toBe('health-check-1');
  });

  it('lives at the host root only', async () => {
    expectError(await t.inject({ method: 'GET', url: '/api/v1/health', headers: { 'x-api-key': API_KEY } }), 404, 'NOT_FOUND');
  });
});

describe('GET /api/v1/readiness (§3.2)', () => {
  describe('with a configured session secret', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t?.close());

    it('answers 200 ready with the six checks in order (the shipped catalogue has services and skills)', async () => {
      const response = await t.inject({ method: 'GET', url: '/api/v1/readiness' });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expectReadinessShape(response);
      expect(response.body.status).toBe('ready');
      expect(checkOf(response, 'catalog')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^\d+ services$/) });
      expect(checkOf(response, 'skills')).toMatchObject({ status: 'ok', detail: '8 skills' });
      expect(checkOf(response, 'runtime')).toMatchObject({ status: 'ok' });
    });

    it('reports the store check with an integer latencyMs, and latencyMs on no check without I/O', async () => {
      const response = await t.inject({ method: 'GET', url: '/api/v1/readiness' });
      const store = checkOf(response, 'store');
      expect(store?.status).toBe('ok');
      expect(Number.isInteger(store?.latencyMs) && store!.latencyMs! >= 0).toBe(true);
      for (const name of ['catalog', 'auth', 'runtime', 'skills'] as const) expect(checkOf(response, name)).not.toHaveProperty('latencyMs');
    });

    it('reports auth ok when the secret is configured outside production', async () => {
      const response = await t.inject({ method: 'GET', url: '/api/v1/readiness' });
      expect(checkOf(response, 'auth')).toMatchObject({ status: 'ok' });
    });

    it('reports the projection lag in the projections detail, also after writes', async () => {
      expect((await createNote(t)).status).toBe(201);
      const response = await t.inject({ method: 'GET', url: '/api/v1/readiness' });
      const projections = checkOf(response, 'projections');
      expect(projections?.status).toBe('ok');
      expect(projections?.detail).toMatch(/\blag \d+ ms\b/);
    });
  });

  it('reports catalog and skills warn (degraded, 200) for a catalogue without services and skills', () => {
    const dir = mkdtempSync(join(tmpdir(), 'peaqos-empty-catalog-'));
    const path = writeCatalogFile(dir, { version: 1, skills: [], adapters: [], services: [] });
    return withTestApp({ env: { PEAQOS_CATALOG_PATH: path } }, async (t) => {
      const response = await t.inject({ method: 'GET', url: '/api/v1/readiness' });
      expect(response.status).toBe(200);
      expectReadinessShape(response);
      expect(response.body.status).toBe('degraded');
      expect(checkOf(response, 'catalog')).toMatchObject({ status: 'warn' });
      expect(checkOf(response, 'skills')).toMatchObject({ status: 'warn' });
    }).finally(() => rmSync(dir, { recursive: true, force: true }));
  });

  it.each([
    ['the session secret is ephemeral (§2.3)', { PEAQOS_AGENT_PAIRING_SESSION_SECRET: '' }, 'PEAQOS_AGENT_PAIRING_SESSION_SECRET'],
    ['production runs without API-key auth', { NODE_ENV: 'production' }, 'PEAQOS_REQUIRE_API_AUTH'],
  ])('reports auth warn, naming the variable, when %s', (_, env, variable) =>
    withTestApp({ env }, async (t) => {
      const response = await t.inject({ method: 'GET', url: '/api/v1/readiness' });
      expect(response.status).toBe(200);
      expectReadinessShape(response);
      expect(checkOf(response, 'auth')).toEqual({ name: 'auth', status: 'warn', detail: expect.stringContaining(variable) });
    }),
  );

  it('requires the API key when API-key auth is on', () =>
    withTestApp({ env: { PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEYS: API_KEY } }, async (t) => {
      expectError(await t.inject({ method: 'GET', url: '/api/v1/readiness' }), 401, 'AUTH_REQUIRED');
      const response = await t.inject({ method: 'GET', url: '/api/v1/readiness', headers: { 'x-api-key': API_KEY } });
      expect(response.status).toBe(200);
      expectReadinessShape(response);
    }));

  describe('when the event store is unavailable', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
      await t.app.get<EventStore>(EVENT_STORE).close();
    });
    afterAll(() => t?.close());

    it('answers 503 not_ready with Retry-After: 5 and a failing store check', async () => {
      const response = await t.inject({ method: 'GET', url: '/api/v1/readiness' });
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expectReadinessShape(response);
      expect(response.body.status).toBe('not_ready');
      expect(checkOf(response, 'store')).toMatchObject({ status: 'fail', latencyMs: expect.any(Number) });
    });

    it('keeps answering /health with 200 (§3.1)', async () => {
      const response = await t.inject({ method: 'GET', url: '/health' });
      expect({ status: response.status, text: response.text }).toEqual({ status: 200, text: '{"ok":true}' });
    });

    it('answers a write with 503 SERVICE_UNAVAILABLE and Retry-After: 5', async () => {
      const response = await createNote(t);
      expectError(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.headers['retry-after']).toBe('5');
      expect(response.body.error.details).toEqual({ reason: expect.any(String) });
    });
  });
});
