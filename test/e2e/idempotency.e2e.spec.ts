import { ControllableClock } from '../support/controllable-clock';
import { expectError, expectValidationError } from '../support/http-expectations';
import { ProbeDownstream } from '../support/probe/probe-downstream';
import { createNote, NOTES_URL, noteId, renameNote, UNKNOWN_NOTE_ID } from '../support/probe/probe-requests';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';

const DAY_MS = 24 * 60 * 60 * 1000;
const HOLD_MS = 1000;

let keySeq = 0;
/** A fresh Idempotency-Key per use, so tests sharing an app never collide. */
const freshKey = (label: string) => `${label}-${++keySeq}-${Date.now()}`;
const withKey = (key: string, headers: Record<string, string> = {}) => ({ ...headers, 'idempotency-key': key });

function slow(t: TestApp, key: string, ms: number, correlationId?: string): Promise<TestResponse> {
  const headers = withKey(key, correlationId ? { 'x-correlation-id': correlationId } : {});
  return t.inject({ method: 'POST', url: '/api/v1/probe/slow', payload: { ms }, headers });
}

/**
 * Starts a slow request and resolves once it holds its key, whatever the machine's load. The pending
 * response is wrapped: an async function would otherwise wait for it.
 */
async function startSlow(t: TestApp, key: string, ms: number): Promise<{ running: Promise<TestResponse> }> {
  const correlationId = `${key}-first`;
  const running = slow(t, key, ms, correlationId);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const events = await t.storedEvents({ includeInternal: true });
    if (events.some((e) => e.type === 'idempotency.claimed' && e.metadata.correlationId === correlationId)) return { running };
    if (Date.now() > deadline) throw new Error('the slow request never claimed its key');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The original response, as a replay must reproduce it: status and body. */
const outcome = (r: TestResponse) => ({ status: r.status, body: r.body });

describe('§0.11 Idempotency-Key', () => {
  const clock = new ControllableClock('2026-02-01T08:00:00.000Z');
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ clock });
  });
  afterAll(() => t?.close());

  describe('replay of a completed request', () => {
    it('returns the same status and body with Idempotency-Replayed: true, and writes nothing', async () => {
      const key = freshKey('replay');
      const first = await createNote(t, { title: 'once', tags: ['x'] }, withKey(key));
      expect(first.status).toBe(201);
      expect(first.headers).not.toHaveProperty('idempotency-replayed');
      const before = await t.storedEvents({ includeInternal: true });

      const replay = await createNote(t, { title: 'once', tags: ['x'] }, withKey(key));
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(outcome(replay)).toEqual(outcome(first));
      expect(await t.storedEvents({ includeInternal: true })).toHaveLength(before.length);
    });

    it('replays a 4xx outcome (404 on PATCH of an unknown note) with its status and body', async () => {
      const key = freshKey('replay-404');
      const first = await renameNote(t, UNKNOWN_NOTE_ID, 'x', withKey(key));
      expectError(first, 404, 'NOT_FOUND');
      const replay = await renameNote(t, UNKNOWN_NOTE_ID, 'x', withKey(key));
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(outcome(replay)).toEqual(outcome(first));
    });

    it('replays a stored outcome even after the state changed (the request is not run again)', async () => {
      const id = await noteId(t, 'original');
      const key = freshKey('replay-stale');
      const first = await renameNote(t, id, 'renamed by key', withKey(key));
      expect(first.status).toBe(200);
      await renameNote(t, id, 'renamed later');
      const replay = await renameNote(t, id, 'renamed by key', withKey(key));
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect((await t.inject({ method: 'GET', url: `${NOTES_URL}/${id}` })).body.item.title).toBe('renamed later');
    });

    it('works on an endpoint without a body', async () => {
      const id = await noteId(t, 'archive me');
      const key = freshKey('archive');
      const first = await t.inject({ method: 'POST', url: `${NOTES_URL}/${id}/archive`, headers: withKey(key) });
      const replay = await t.inject({ method: 'POST', url: `${NOTES_URL}/${id}/archive`, headers: withKey(key) });
      expect(first.status).toBe(200);
      expect(replay.headers['idempotency-replayed']).toBe('true');
    });

    it('ignores unknown query parameters in the fingerprint and the scope', async () => {
      const key = freshKey('query');
      const first = await createNote(t, { title: 'q' }, withKey(key));
      const replay = await t.inject({ method: 'POST', url: `${NOTES_URL}?trace=on`, payload: { title: 'q' }, headers: withKey(key) });
      expect(first.status).toBe(201);
      expect(replay.headers['idempotency-replayed']).toBe('true');
    });
  });

  describe('same key, different request', () => {
    it('answers 422 IDEMPOTENCY_KEY_REUSED and writes nothing', async () => {
      const key = freshKey('reuse');
      expect((await createNote(t, { title: 'first body' }, withKey(key))).status).toBe(201);
      const before = (await t.storedEvents({ includeInternal: true })).length;
      const response = await createNote(t, { title: 'second body' }, withKey(key));
      expectError(response, 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(response.body.error.details).toEqual({ idempotencyKey: key });
      expect(await t.storedEvents({ includeInternal: true })).toHaveLength(before);
    });

    it('compares bodies canonically: member order does not make a different request', async () => {
      const key = freshKey('canonical');
      expect((await createNote(t, { title: 'c', tags: ['a'] }, withKey(key))).status).toBe(201);
      const replay = await t.inject({
        method: 'POST',
        url: NOTES_URL,
        payload: '{ "tags": ["a"], "title": "c" }',
        headers: withKey(key, { 'content-type': 'application/json' }),
      });
      expect(replay.headers['idempotency-replayed']).toBe('true');
    });
  });

  describe('a request still running', () => {
    it('answers the same key with 409 IDEMPOTENCY_IN_FLIGHT and Retry-After: 1, then replays once done', async () => {
      const key = freshKey('in-flight');
      // Long enough that the second request surely arrives while the first still sleeps, even under load.
      const { running } = await startSlow(t, key, HOLD_MS);

      const concurrent = await slow(t, key, HOLD_MS);
      expectError(concurrent, 409, 'IDEMPOTENCY_IN_FLIGHT');
      expect(concurrent.headers['retry-after']).toBe('1');
      expect(concurrent.body.error.details).toEqual({ idempotencyKey: key });

      const first = await running;
      expect(outcome(first)).toEqual({ status: 200, body: { item: { sleptMs: HOLD_MS } } });
      const replay = await slow(t, key, HOLD_MS);
      expect(replay.headers['idempotency-replayed']).toBe('true');
    });

    it('lets exactly one of several simultaneous requests with the same key run', async () => {
      const key = freshKey('race');
      const responses = await Promise.all(Array.from({ length: 5 }, () => createNote(t, { title: 'race' }, withKey(key))));
      const ran = responses.filter((r) => r.status === 201 && r.headers['idempotency-replayed'] === undefined);
      expect(ran).toHaveLength(1);
      for (const other of responses.filter((r) => r !== ran[0])) {
        // Still running (409) or, if the winner already finished, a replay.
        expect(other.status === 409 ? other.body.error.code : other.headers['idempotency-replayed']).toMatch(
          /^(IDEMPOTENCY_IN_FLIGHT|true)$/,
        );
      }
      const written = (await t.storedEvents()).filter((e) => e.type === 'probe_note.created' && e.data.title === 'race');
      expect(written).toHaveLength(1);
    });

    it('answers the same key with a different body with 422 while it runs', async () => {
      const key = freshKey('in-flight-other');
      const { running } = await startSlow(t, key, 400);
      expectError(await slow(t, key, 401), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect((await running).status).toBe(200);
    });
  });

  describe('a 5xx outcome', () => {
    it('is not stored: a retry with the same key runs again', async () => {
      const downstream = t.app.get(ProbeDownstream);
      downstream.setAvailable(false);
      const key = freshKey('5xx');
      const calls = downstream.callCount();
      const failed = await t.inject({ method: 'POST', url: '/api/v1/probe/unavailable', headers: withKey(key) });
      expectError(failed, 503, 'SERVICE_UNAVAILABLE');
      expect(failed.headers['retry-after']).toBe('5');

      downstream.setAvailable(true);
      try {
        const retried = await t.inject({ method: 'POST', url: '/api/v1/probe/unavailable', headers: withKey(key) });
        expect(retried.status).toBe(200);
        expect(retried.headers).not.toHaveProperty('idempotency-replayed');
        expect(downstream.callCount()).toBe(calls + 2);

        // The success is stored: a third attempt is a replay and does not reach the downstream.
        const third = await t.inject({ method: 'POST', url: '/api/v1/probe/unavailable', headers: withKey(key) });
        expect(third.headers['idempotency-replayed']).toBe('true');
        expect(downstream.callCount()).toBe(calls + 2);
      } finally {
        downstream.setAvailable(false);
      }
    });

    it('is not stored for an unexpected 500 either', async () => {
      const key = freshKey('500');
      const first = await t.inject({ method: 'POST', url: '/api/v1/probe/boom', headers: withKey(key) });
      const second = await t.inject({ method: 'POST', url: '/api/v1/probe/boom', headers: withKey(key) });
      expectError(first, 500, 'INTERNAL_ERROR');
      expectError(second, 500, 'INTERNAL_ERROR');
      expect(second.headers).not.toHaveProperty('idempotency-replayed');
    });
  });

  describe('the key itself', () => {
    it.each([
      ['empty', ''],
      ['longer than 255 characters', 'k'.repeat(256)],
      ['containing a space', 'a b'],
      ['containing a tab', 'a\tb'],
      ['containing a non-ASCII character', 'caf\u00e9'],
    ])('is rejected when %s: 400 with location header', async (_, key) => {
      const before = (await t.storedEvents({ includeInternal: true })).length;
      expectValidationError(await createNote(t, { title: 'k' }, withKey(key)), { location: 'header', path: 'idempotency-key' });
      expect(await t.storedEvents({ includeInternal: true })).toHaveLength(before);
    });

    it('may be 255 printable ASCII characters', async () => {
      const key = ('!~' + freshKey('long')).padEnd(255, 'z');
      expect((await createNote(t, { title: 'k' }, withKey(key))).status).toBe(201);
      expect((await createNote(t, { title: 'k' }, withKey(key))).headers['idempotency-replayed']).toBe('true');
    });

    it('is ignored on GET, even when malformed', async () => {
      const response = await t.inject({ method: 'GET', url: NOTES_URL, headers: withKey('not valid') });
      expect(response.status).toBe(200);
      expect(response.headers).not.toHaveProperty('idempotency-replayed');
    });

    it('is scoped by path: the same key on another path runs normally', async () => {
      const key = freshKey('scope-path');
      const a = await noteId(t, 'scope a');
      const b = await noteId(t, 'scope b');
      const created = await createNote(t, { title: 'scoped' }, withKey(key));
      const renamedA = await renameNote(t, a, 'same title', withKey(key));
      const renamedB = await renameNote(t, b, 'same title', withKey(key));
      for (const response of [created, renamedA, renamedB]) expect(response.headers).not.toHaveProperty('idempotency-replayed');
      expect([created.status, renamedA.status, renamedB.status]).toEqual([201, 200, 200]);
      expect(renamedB.body.item.id).toBe(b);
    });

    it('is not recorded for a request that fails validation', async () => {
      const key = freshKey('invalid-first');
      expectValidationError(await createNote(t, { title: '' }, withKey(key)), { location: 'body', path: '/title' });
      const valid = await createNote(t, { title: 'valid now' }, withKey(key));
      expect(valid.status).toBe(201);
      expect(valid.headers).not.toHaveProperty('idempotency-replayed');
      // The invalid request is still rejected by validation (step 5), not as a reused key (step 6).
      expectValidationError(await createNote(t, { title: '' }, withKey(key)), { location: 'body', path: '/title' });
    });

    it('is not recorded for a request with a malformed body or an invalid correlation id', async () => {
      const key = freshKey('rejected-early');
      const malformed = await t.inject({
        method: 'POST',
        url: NOTES_URL,
        payload: '{',
        headers: withKey(key, { 'content-type': 'application/json' }),
      });
      expectValidationError(malformed);
      expectValidationError(await createNote(t, { title: 'x' }, withKey(key, { 'x-correlation-id': 'bad id' })));
      expect((await createNote(t, { title: 'x' }, withKey(key))).headers).not.toHaveProperty('idempotency-replayed');
    });
  });

  describe('retention', () => {
    it('keeps a completed response for 24 hours, then frees the key', async () => {
      const key = freshKey('retention');
      expect((await createNote(t, { title: 'day one' }, withKey(key))).status).toBe(201);

      clock.advance(DAY_MS - 1);
      expectError(await createNote(t, { title: 'day two' }, withKey(key)), 422, 'IDEMPOTENCY_KEY_REUSED');

      clock.advance(2);
      const afterExpiry = await createNote(t, { title: 'day two' }, withKey(key));
      expect(afterExpiry.status).toBe(201);
      expect(afterExpiry.headers).not.toHaveProperty('idempotency-replayed');
      expect(afterExpiry.body.item.title).toBe('day two');
    });
  });
});
