import { verifyChain } from '../../src/domain/shared/hash-chain';
import { StoredEvent } from '../../src/application/ports/event-store.port';
import { ProbeDownstream } from '../support/probe/probe-downstream';
import { bodyOfSize, createNote, MIB, NOTES_URL, noteId, rawJson, renameNote, UNKNOWN_NOTE_ID } from '../support/probe/probe-requests';
import { expectError, expectValidationError, UUID_V4 } from '../support/http-expectations';
import { startTestApp, TestApp } from '../support/test-app';

describe('HTTP conventions (§0) through the probe feature', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  describe('§0.8 error envelope and unknown routes', () => {
    it('answers an unknown route with 404 NOT_FOUND and details { method, path }', async () => {
      const response = await t.inject({ method: 'GET', url: '/api/v1/no-such-thing?x=1' });
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ method: 'GET', path: '/api/v1/no-such-thing' });
    });

    it('answers a known path with an unrouted method with 404 NOT_FOUND', async () => {
      const response = await t.inject({ method: 'DELETE', url: NOTES_URL });
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ method: 'DELETE', path: NOTES_URL });
    });

    it('does not strip a trailing slash (§0.1)', async () => {
      for (const url of ['/health/', '/api/v1/readiness/', `${NOTES_URL}/${UNKNOWN_NOTE_ID}/`]) {
        const response = await t.inject({ method: 'GET', url });
        expectError(response, 404, 'NOT_FOUND');
        expect(response.body.error.details).toEqual({ method: 'GET', path: url });
      }
    });

    it('does not route a list path with a trailing slash to the item endpoint with an empty id (§0.1)', async () => {
      // `/notes/` is not `/notes`, and an empty path segment is not a `:noteId`: no endpoint matches.
      const response = await t.inject({ method: 'GET', url: `${NOTES_URL}/` });
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ method: 'GET', path: `${NOTES_URL}/` });
    });

    it('matches paths case-sensitively (§0.1)', async () => {
      for (const url of ['/api/v1/Probe/notes', '/API/v1/probe/notes', '/HEALTH', '/api/v1/READINESS']) {
        expectError(await t.inject({ method: 'GET', url }), 404, 'NOT_FOUND');
      }
    });

    it('answers a URL that does not decode with 400 VALIDATION_ERROR in the envelope, echoing the correlation id', async () => {
      const response = await t.inject({ method: 'GET', url: `${NOTES_URL}/%E0%A4%A`, headers: { 'x-correlation-id': 'bad-url-1' } });
      expectValidationError(response);
      expect(response.headers['x-correlation-id']).toBe('bad-url-1');
    });

    it('serves readiness only under /api/v1, not at the host root', async () => {
      expectError(await t.inject({ method: 'GET', url: '/readiness' }), 404, 'NOT_FOUND');
    });

    it('turns an unexpected failure into 500 INTERNAL_ERROR without details or internals', async () => {
      const response = await t.inject({ method: 'POST', url: '/api/v1/probe/boom', headers: { 'x-correlation-id': 'boom-1' } });
      expectError(response, 500, 'INTERNAL_ERROR');
      expect(response.body.error).not.toHaveProperty('details');
      expect(response.text).not.toMatch(/probe exploded|secret|internals|\.ts:|stack|Error:/);
      expect(response.headers['x-correlation-id']).toBe('boom-1');
    });

    it('sends Retry-After: 5 with every 503 (§0.8)', async () => {
      t.app.get(ProbeDownstream).setAvailable(false);
      const response = await t.inject({ method: 'POST', url: '/api/v1/probe/unavailable' });
      expectError(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.headers['retry-after']).toBe('5');
      expect(response.body.error.details).toEqual({ reason: 'probe_downstream_unavailable' });
    });
  });

  describe('§0.13 correlation ids', () => {
    it('echoes a valid x-correlation-id', async () => {
      const id = 'Abc.123_:-' + 'z'.repeat(118);
      const response = await t.inject({ method: 'GET', url: NOTES_URL, headers: { 'x-correlation-id': id } });
      expect(response.status).toBe(200);
      expect(response.headers['x-correlation-id']).toBe(id);
    });

    it('generates a lower-case UUID v4 when none is sent', async () => {
      const a = await t.inject({ method: 'GET', url: NOTES_URL });
      const b = await t.inject({ method: 'GET', url: '/api/v1/nowhere' });
      expect(a.headers['x-correlation-id']).toMatch(UUID_V4);
      expect(b.headers['x-correlation-id']).toMatch(UUID_V4);
      expect(a.headers['x-correlation-id']).not.toBe(b.headers['x-correlation-id']);
    });

    it.each([
      ['containing a space', 'has space'],
      ['of 129 characters', 'c'.repeat(129)],
      ['with a slash', 'a/b'],
      ['empty', ''],
    ])('rejects an x-correlation-id %s with 400 (location header)', async (_, id) => {
      const response = await createNote(t, { title: 'x' }, { 'x-correlation-id': id });
      expectValidationError(response, { location: 'header', path: 'x-correlation-id' });
      expect(response.headers['x-correlation-id']).toMatch(UUID_V4);
    });

    it('stamps the correlation id on every event the request writes', async () => {
      const id = await noteId(t, 'correlated', { 'x-correlation-id': 'corr-create-1' });
      await renameNote(t, id, 'renamed', { 'x-correlation-id': 'corr-rename-1' });
      const events = (await t.storedEvents()).filter((e) => e.streamId === `probe-note-${id}`);
      expect(events.map((e) => [e.type, e.metadata.correlationId])).toEqual([
        ['probe_note.created', 'corr-create-1'],
        ['probe_note.renamed', 'corr-rename-1'],
      ]);
    });
  });

  describe('§0.14 processing order', () => {
    it('answers an unknown route with 404 whatever its body', async () => {
      expectError(await rawJson(t, 'POST', '/api/v1/no-such-thing', '{not json'), 404, 'NOT_FOUND');
      expectError(await rawJson(t, 'POST', '/api/v1/no-such-thing', 'hello', 'text/plain'), 404, 'NOT_FOUND');
      expectError(await rawJson(t, 'POST', '/api/v1/no-such-thing', bodyOfSize(MIB + 10)), 404, 'NOT_FOUND');
    });

    it('answers an unknown route with 404 even with an invalid correlation id or Idempotency-Key', async () => {
      const headers = { 'x-correlation-id': 'not valid', 'idempotency-key': '' };
      expectError(await t.inject({ method: 'POST', url: '/api/v1/no-such-thing', payload: {}, headers }), 404, 'NOT_FOUND');
    });

    it('parses the body (step 3) before validating the path (step 5)', async () => {
      const response = await rawJson(t, 'PATCH', `${NOTES_URL}/bad-id`, '{oops');
      expectValidationError(response, { location: 'body', path: '' });
      expect(response.body.error.details.reason).toBe('invalid_json');
    });

    it('validates the request shape (step 5) before looking for the entity (step 7)', async () => {
      const response = await t.inject({ method: 'PATCH', url: `${NOTES_URL}/${UNKNOWN_NOTE_ID}`, payload: { title: '' } });
      expectValidationError(response, { location: 'body', path: '/title' });
    });

    it('reports path and body problems of one request together', async () => {
      const response = await t.inject({ method: 'PATCH', url: `${NOTES_URL}/bad-id`, payload: { title: 'x', bogus: 1 } });
      expectValidationError(response, { location: 'path', path: 'noteId' }, { location: 'body', path: '/bogus' });
    });
  });

  describe('read-your-writes (ARCHITECTURE §4)', () => {
    it('lists a note in the very next request after its creation', async () => {
      const created = await createNote(t, { title: 'ryw-fresh', tags: ['a'] });
      const list = await t.inject({ method: 'GET', url: `${NOTES_URL}?titlePrefix=ryw-fresh` });
      expect(list.body.items).toEqual([created.body.item]);
      const item = await t.inject({ method: 'GET', url: `${NOTES_URL}/${created.body.item.id}` });
      expect(item.body).toEqual({ item: created.body.item });
    });

    it('shows a rename in the very next read', async () => {
      const id = await noteId(t, 'ryw-before');
      await renameNote(t, id, 'ryw-after');
      const item = await t.inject({ method: 'GET', url: `${NOTES_URL}/${id}` });
      expect(item.body.item.title).toBe('ryw-after');
    });
  });

  describe('no partial writes (§0.14 step 12)', () => {
    it.each([
      ['a validation error', () => createNote(t, { title: 'x', nope: 1 }), 400],
      ['a malformed body', () => rawJson(t, 'POST', NOTES_URL, '{'), 400],
      ['an unknown entity', () => renameNote(t, UNKNOWN_NOTE_ID, 'x'), 404],
      ['an unknown route', () => t.inject({ method: 'POST', url: '/api/v1/probe/nothing', payload: { title: 'x' } }), 404],
      ['an unexpected failure', () => t.inject({ method: 'POST', url: '/api/v1/probe/boom' }), 500],
    ])('a request rejected by %s appends nothing', async (_, send, status) => {
      const before = (await t.storedEvents({ includeInternal: true })).length;
      expect((await send()).status).toBe(status);
      expect(await t.storedEvents({ includeInternal: true })).toHaveLength(before);
    });

    it('a state error (409 STATE_CONFLICT) appends nothing', async () => {
      const id = await noteId(t, 'archived soon');
      await t.inject({ method: 'POST', url: `${NOTES_URL}/${id}/archive` });
      const before = (await t.storedEvents({ includeInternal: true })).length;
      const response = await renameNote(t, id, 'too late');
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual({ entityType: 'probe-note', id, status: 'archived', reason: 'note_archived' });
      expect(await t.storedEvents({ includeInternal: true })).toHaveLength(before);
    });
  });

  describe('stored events', () => {
    let stream: StoredEvent[];
    let id: string;

    beforeAll(async () => {
      id = await noteId(t, 'chained');
      await renameNote(t, id, 'chained twice');
      await t.inject({ method: 'POST', url: `${NOTES_URL}/${id}/archive` });
      stream = (await t.storedEvents()).filter((e) => e.streamId === `probe-note-${id}`);
    });

    it('carries a valid per-stream hash chain (§8.7.3)', async () => {
      expect(stream.map((e) => [e.revision, e.type])).toEqual([
        [0, 'probe_note.created'],
        [1, 'probe_note.renamed'],
        [2, 'probe_note.archived'],
      ]);
      expect(stream[0].metadata.prevHash).toBe('0'.repeat(64));
      expect(verifyChain(stream)).toBeNull();
    });

    it('keeps every stream of the store verifiable, internal ones included', async () => {
      const byStream = new Map<string, StoredEvent[]>();
      for (const e of await t.storedEvents({ includeInternal: true })) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
      for (const events of byStream.values()) expect(verifyChain(events)).toBeNull();
    });

    it('stamps the metadata of §8.7.1 on every event', () => {
      for (const e of stream) {
        expect(e.id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
        expect(e.metadata).toEqual({
          correlationId: expect.stringMatching(UUID_V4),
          causationId: null,
          actor: { type: 'anonymous', id: null },
          occurredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
          schemaVersion: 1,
          prevHash: expect.stringMatching(/^[0-9a-f]{64}$/),
          hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        });
      }
    });

    it('detects a tampered event', () => {
      const tampered = stream.map((e, i) => (i === 1 ? { ...e, data: { ...e.data, title: 'forged' } } : e));
      expect(verifyChain(tampered)).toEqual({ streamId: `probe-note-${id}`, revision: 1, reason: 'hash_mismatch' });
    });
  });
});

describe('HTTP conventions over a real socket on 127.0.0.1', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ listen: true });
  });
  afterAll(() => t?.close());

  it('listens on 127.0.0.1', () => {
    expect(t.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('creates, replays and lists a note, with the conventional headers', async () => {
    const post = () =>
      fetch(`${t.url}${NOTES_URL}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'socket-1', 'x-correlation-id': 'socket-corr' },
        body: JSON.stringify({ title: 'over the wire' }),
      });
    const first = await post();
    expect(first.status).toBe(201);
    expect(first.headers.get('x-correlation-id')).toBe('socket-corr');
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const created = (await first.json()) as { item: { id: string } };

    const list = await fetch(`${t.url}${NOTES_URL}?titlePrefix=over`);
    expect(await list.json()).toEqual({ items: [created.item] });

    const replay = await post();
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect({ status: replay.status, body: await replay.json() }).toEqual({ status: 201, body: created });
  });

  it('answers errors in the envelope', async () => {
    const response = await fetch(`${t.url}/api/v1/nowhere/`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-correlation-id')).toMatch(UUID_V4);
    expect(await response.json()).toEqual({
      error: { code: 'NOT_FOUND', message: expect.any(String), details: { method: 'PUT', path: '/api/v1/nowhere/' } },
    });
  });

  it('rejects a body sent without a Content-Type, even to an endpoint without a body', async () => {
    const id = await noteId(t, 'socket archive');
    const response = await fetch(`${t.url}${NOTES_URL}/${id}/archive`, { method: 'POST', body: new Blob(['garbage']) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_ERROR');
  });

  it('rejects an invalid JSON body sent over the wire', async () => {
    const response = await fetch(`${t.url}${NOTES_URL}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"title":',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_ERROR');
  });
});
