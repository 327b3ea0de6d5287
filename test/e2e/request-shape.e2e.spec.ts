import { expectError, expectValidationError } from '../support/http-expectations';
import { bodyOfSize, createNote, MIB, NOTES_URL, noteId, rawJson, renameNote, UNKNOWN_NOTE_ID } from '../support/probe/probe-requests';
import { startTestApp, TestApp } from '../support/test-app';

describe('request shape (§0.2, §0.8) through the probe feature', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  describe('§0.2 request bodies', () => {
    it('answers a successful request with Content-Type application/json; charset=utf-8', async () => {
      const response = await createNote(t);
      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    });

    it('rejects a body that is not valid JSON', async () => {
      expectValidationError(await rawJson(t, 'POST', NOTES_URL, '{"title": '), { location: 'body', path: '' });
    });

    it.each([
      ['an array', '[{"title":"x"}]'],
      ['a string', '"title"'],
      ['a number', '42'],
      ['null', 'null'],
    ])('rejects a JSON body that is %s, not an object', async (_, payload) => {
      expectValidationError(await rawJson(t, 'POST', NOTES_URL, payload), { location: 'body', path: '' });
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/vnd.api+json', 'application/jsonx'])(
      'rejects a body sent as %s with 400, not 415',
      async (contentType) => {
        expectValidationError(await rawJson(t, 'POST', NOTES_URL, '{"title":"x"}', contentType));
      },
    );

    it.each(['application/json; charset=latin1', 'application/json; charset=iso-8859-1', 'application/json; charset=utf-16'])(
      'rejects %s',
      async (contentType) => {
        expectValidationError(await rawJson(t, 'POST', NOTES_URL, '{"title":"x"}', contentType));
      },
    );

    it.each(['application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"'])(
      'accepts %s',
      async (contentType) => {
        const response = await rawJson(t, 'POST', NOTES_URL, '{"title":"ü ✓"}', contentType);
        expect(response.status).toBe(201);
        expect(response.body.item.title).toBe('ü ✓');
      },
    );

    it('rejects a body larger than 1 MiB with 413 PAYLOAD_TOO_LARGE and details.limitBytes', async () => {
      const response = await rawJson(t, 'POST', NOTES_URL, bodyOfSize(MIB + 1));
      expectError(response, 413, 'PAYLOAD_TOO_LARGE');
      expect(response.body.error.details).toEqual({ limitBytes: 1_048_576 });
    });

    it('parses a body of exactly 1 MiB (the limit is "larger than")', async () => {
      // The title is far too long, so the request reaches validation: proof it was not cut off at step 3.
      expectValidationError(await rawJson(t, 'POST', NOTES_URL, bodyOfSize(MIB)), { location: 'body', path: '/title' });
    });

    describe('an endpoint documented without a body', () => {
      let archiveUrl: string;
      beforeAll(async () => {
        archiveUrl = `${NOTES_URL}/${await noteId(t, 'to archive')}/archive`;
      });

      it('accepts an absent body', async () => {
        const response = await t.inject({ method: 'POST', url: archiveUrl });
        expect(response.status).toBe(200);
        expect(response.body.item.archivedAt).toEqual(expect.any(String));
      });

      it('accepts {}', async () => {
        expect((await t.inject({ method: 'POST', url: archiveUrl, payload: {} })).status).toBe(200);
      });

      it('rejects any other body', async () => {
        expectValidationError(await t.inject({ method: 'POST', url: archiveUrl, payload: { x: 1 } }), { location: 'body', path: '' });
        expectValidationError(await rawJson(t, 'POST', archiveUrl, '[]'), { location: 'body', path: '' });
      });
    });

    it('rejects a missing body where the endpoint needs one', async () => {
      expectValidationError(await t.inject({ method: 'POST', url: NOTES_URL }), { location: 'body', path: '' });
      expectValidationError(await rawJson(t, 'POST', NOTES_URL, ''), { location: 'body', path: '' });
    });
  });

  describe('§0.2/§0.8 request-shape validation', () => {
    it('rejects an unknown body member with a JSON Pointer to it', async () => {
      const response = await createNote(t, { title: 'x', unknown: true });
      expectValidationError(response, { location: 'body', path: '/unknown' });
    });

    it('rejects an unknown member of a typed nested object', async () => {
      const response = await createNote(t, { title: 'x', meta: { color: 'red', unknown: 1 } });
      expectValidationError(response, { location: 'body', path: '/meta/unknown' });
      expect(response.body.error.details.errors).toHaveLength(1);
    });

    it('rejects unknown members named like inherited object properties, never dropping them silently', async () => {
      for (const name of ['toString', 'constructor', 'hasOwnProperty', 'valueOf']) {
        expectValidationError(await createNote(t, { title: 'inherited', [name]: 1 }), { location: 'body', path: `/${name}` });
        expectValidationError(await createNote(t, { title: 'inherited', meta: { color: 'red', [name]: 1 } }), {
          location: 'body',
          path: `/meta/${name}`,
        });
      }
      expect((await t.storedEvents()).filter((e) => e.data.title === 'inherited')).toEqual([]);
    });

    it('does not accept snake_case spellings of members (§0.3)', async () => {
      expectValidationError(await createNote(t, { title: 'x', created_at: '2026-01-01T00:00:00.000Z' }), {
        location: 'body',
        path: '/created_at',
      });
    });

    it('reports wrong types with the JSON Pointer of the member', async () => {
      expectValidationError(await createNote(t, { title: 42 }), { location: 'body', path: '/title' });
      expectValidationError(await createNote(t, { title: 'x', meta: { color: 'green' } }), { location: 'body', path: '/meta/color' });
      expectValidationError(await createNote(t, { title: 'x', tags: 'a,b' }), { location: 'body', path: '/tags' });
      expectValidationError(await createNote(t, { title: 'x', tags: ['1', '2', '3', '4', '5', '6'] }), { location: 'body', path: '/tags' });
      expectValidationError(await createNote(t, { title: 'x', meta: [{ color: 'red' }] }), { location: 'body', path: '/meta' });
    });

    it('reports every problem of a request at once', async () => {
      const response = await createNote(t, { title: '', meta: { color: 'red', shade: 'dark' }, extra: 1 });
      expectValidationError(
        response,
        { location: 'body', path: '/title' },
        { location: 'body', path: '/meta/shade' },
        { location: 'body', path: '/extra' },
      );
    });

    it('treats an optional member sent as null as absent (§0.3)', async () => {
      const response = await createNote(t, { title: 'nulls', tags: null, meta: null });
      expect(response.status).toBe(201);
      expect(response.body.item).toMatchObject({ tags: [], color: null });
    });

    it('rejects a malformed path parameter with location "path"', async () => {
      const response = await renameNote(t, 'not-a-note-id', 'x');
      expectValidationError(response, { location: 'path', path: 'noteId' });
    });

    it.each(['0', '501', 'abc', '1.5', '-1', '+5', '1e2', ''])(
      'rejects limit=%p with location query, path limit (§0.10)',
      async (limit) => {
        const response = await t.inject({ method: 'GET', url: `${NOTES_URL}?limit=${encodeURIComponent(limit)}` });
        expectValidationError(response, { location: 'query', path: 'limit' });
      },
    );

    it.each(['1', '500'])('accepts limit=%s', async (limit) => {
      expect((await t.inject({ method: 'GET', url: `${NOTES_URL}?limit=${limit}` })).status).toBe(200);
    });

    it('accepts a limit written with a leading zero: it is a base-10 digit string (§0.2 integers)', async () => {
      expect((await t.inject({ method: 'GET', url: `${NOTES_URL}?limit=05` })).status).toBe(200);
    });

    it('rejects a documented query parameter given more than once', async () => {
      expectValidationError(await t.inject({ method: 'GET', url: `${NOTES_URL}?limit=1&limit=2` }), { location: 'query', path: 'limit' });
      expectValidationError(await t.inject({ method: 'GET', url: `${NOTES_URL}?titlePrefix=a&titlePrefix=b` }), {
        location: 'query',
        path: 'titlePrefix',
      });
    });

    it('ignores unknown query parameters, even repeated ones', async () => {
      const response = await t.inject({ method: 'GET', url: `${NOTES_URL}?limit=1&verbose=true&x=1&x=2` });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ items: expect.any(Array), nextCursor: expect.any(String) });
    });

    it('answers an unknown note with 404 NOT_FOUND and details { entityType, id }', async () => {
      const response = await t.inject({ method: 'GET', url: `${NOTES_URL}/${UNKNOWN_NOTE_ID}` });
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType: 'probe-note', id: UNKNOWN_NOTE_ID });
    });
  });
});
