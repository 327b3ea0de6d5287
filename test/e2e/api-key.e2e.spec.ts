import { createHash } from 'node:crypto';
import { expectError } from '../support/http-expectations';
import { bodyOfSize, createNote, MIB, NOTES_URL, noteId } from '../support/probe/probe-requests';
import { startTestApp, TestApp } from '../support/test-app';

const KEY_A = 'api-key-alpha-0123456789';
const KEY_B = 'api-key-bravo-9876543210';

/** §1.1: the audit actor of an API-key request. */
function actorOf(key: string) {
  return { type: 'api-key', id: `sha256:${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16)}` };
}

describe('§1.1 API key, when PEAQOS_REQUIRE_API_AUTH=true', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Entries are trimmed, empty entries ignored, and PEAQOS_API_KEY joins the set (duplicates harmless).
    t = await startTestApp({ env: { PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEYS: ` ${KEY_A} , ,${KEY_B},`, PEAQOS_API_KEY: KEY_A } });
  });
  afterAll(() => t?.close());

  it('answers a request without x-api-key with 401 AUTH_REQUIRED and no details', async () => {
    const response = await t.inject({ method: 'GET', url: NOTES_URL });
    expectError(response, 401, 'AUTH_REQUIRED');
    expect(response.body.error).not.toHaveProperty('details');
  });

  it('answers an empty x-api-key with 401 AUTH_REQUIRED', async () => {
    expectError(await t.inject({ method: 'GET', url: NOTES_URL, headers: { 'x-api-key': '' } }), 401, 'AUTH_REQUIRED');
  });

  it('answers an unknown key with 401 AUTH_INVALID', async () => {
    for (const key of ['api-key-charlie-000000000', KEY_A.slice(0, -1), `${KEY_A}x`, KEY_A.toUpperCase()]) {
      const response = await t.inject({ method: 'GET', url: NOTES_URL, headers: { 'x-api-key': key } });
      expectError(response, 401, 'AUTH_INVALID');
      expect(response.body.error).not.toHaveProperty('details');
    }
  });

  it('accepts every configured key', async () => {
    for (const key of [KEY_A, KEY_B]) {
      expect((await t.inject({ method: 'GET', url: NOTES_URL, headers: { 'x-api-key': key } })).status).toBe(200);
      expect((await createNote(t, { title: 'keyed' }, { 'x-api-key': key })).status).toBe(201);
    }
  });

  it('checks the key before route matching under /api/v1: an unknown path without a key is 401, not 404', async () => {
    for (const url of ['/api/v1/no-such-thing', '/api/v1', '/api/v1/', `${NOTES_URL}/`]) {
      expectError(await t.inject({ method: 'GET', url }), 401, 'AUTH_REQUIRED');
    }
    expectError(await t.inject({ method: 'GET', url: '/api/v1/no-such-thing', headers: { 'x-api-key': KEY_B } }), 404, 'NOT_FOUND');
  });

  it('checks the key first even when the /api/v1 URL does not decode', async () => {
    expectError(await t.inject({ method: 'GET', url: `${NOTES_URL}/%E0%A4%A` }), 401, 'AUTH_REQUIRED');
  });

  it('leaves paths outside /api/v1 to route matching', async () => {
    expectError(await t.inject({ method: 'GET', url: '/no-such-thing' }), 404, 'NOT_FOUND');
    expectError(await t.inject({ method: 'GET', url: '/api/v10/notes' }), 404, 'NOT_FOUND');
  });

  it('exempts GET /health', async () => {
    const response = await t.inject({ method: 'GET', url: '/health' });
    expect({ status: response.status, text: response.text }).toEqual({ status: 200, text: '{"ok":true}' });
  });

  it('carries the correlation id on 401 responses', async () => {
    const response = await t.inject({ method: 'GET', url: NOTES_URL, headers: { 'x-correlation-id': 'no-key-1' } });
    expect(response.headers['x-correlation-id']).toBe('no-key-1');
  });

  it('stamps the api-key actor (sha256 prefix of the key) on the events a request writes', async () => {
    const a = await noteId(t, 'by A', { 'x-api-key': KEY_A });
    const b = await noteId(t, 'by B', { 'x-api-key': KEY_B });
    const events = await t.storedEvents();
    const actorOfStream = (id: string) => events.find((e) => e.streamId === `probe-note-${id}`)?.metadata.actor;
    expect(actorOfStream(a)).toEqual(actorOf(KEY_A));
    expect(actorOfStream(b)).toEqual(actorOf(KEY_B));
    expect(JSON.stringify(events)).not.toContain(KEY_A);
  });

  describe('processing order (§0.14): the key is step 2', () => {
    it('answers an oversized body without a key with 401, not 413', async () => {
      const payload = bodyOfSize(MIB + 1);
      const response = await t.inject({ method: 'POST', url: NOTES_URL, payload, headers: { 'content-type': 'application/json' } });
      expectError(response, 401, 'AUTH_REQUIRED');
    });

    it('answers an invalid JSON body or a foreign content type with a wrong key with 401', async () => {
      const headers = { 'x-api-key': 'api-key-charlie-000000000' };
      for (const [payload, contentType] of [
        ['{', 'application/json'],
        ['hello', 'text/plain'],
      ]) {
        const response = await t.inject({ method: 'POST', url: NOTES_URL, payload, headers: { ...headers, 'content-type': contentType } });
        expectError(response, 401, 'AUTH_INVALID');
      }
    });

    it('answers an invalid Idempotency-Key or correlation id without a key with 401', async () => {
      const response = await createNote(t, { title: 'x' }, { 'idempotency-key': 'not valid', 'x-correlation-id': 'not valid' });
      expectError(response, 401, 'AUTH_REQUIRED');
    });
  });

  describe('Idempotency-Key scope (§0.11)', () => {
    it('is per API key: the same key under another API key runs normally', async () => {
      const headersA = { 'x-api-key': KEY_A, 'idempotency-key': 'shared-key-1' };
      const headersB = { 'x-api-key': KEY_B, 'idempotency-key': 'shared-key-1' };
      const first = await createNote(t, { title: 'scoped by api key' }, headersA);
      const other = await createNote(t, { title: 'scoped by api key' }, headersB);
      expect([first.status, other.status]).toEqual([201, 201]);
      expect(other.headers).not.toHaveProperty('idempotency-replayed');
      expect(other.body.item.id).not.toBe(first.body.item.id);

      const replay = await createNote(t, { title: 'scoped by api key' }, headersA);
      expect(replay.headers['idempotency-replayed']).toBe('true');
    });

    it('does not record a request rejected by the API-key check', async () => {
      const rejected = await createNote(t, { title: 'first' }, { 'idempotency-key': 'shared-key-2' });
      expectError(rejected, 401, 'AUTH_REQUIRED');
      const accepted = await createNote(t, { title: 'second' }, { 'x-api-key': KEY_A, 'idempotency-key': 'shared-key-2' });
      expect(accepted.status).toBe(201);
      expect(accepted.headers).not.toHaveProperty('idempotency-replayed');
    });
  });
});

describe('§1.1 API key, when API-key auth is off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PEAQOS_API_KEYS: KEY_A } });
  });
  afterAll(() => t?.close());

  it('ignores x-api-key, whatever it holds', async () => {
    for (const headers of [{}, { 'x-api-key': '' }, { 'x-api-key': 'short' }, { 'x-api-key': KEY_A }]) {
      expect((await t.inject({ method: 'GET', url: NOTES_URL, headers })).status).toBe(200);
    }
  });

  it('writes events with the anonymous actor', async () => {
    const id = await noteId(t, 'anonymous', { 'x-api-key': 'whatever-is-sent-here' });
    const created = (await t.storedEvents()).find((e) => e.streamId === `probe-note-${id}`);
    expect(created?.metadata.actor).toEqual({ type: 'anonymous', id: null });
  });
});
