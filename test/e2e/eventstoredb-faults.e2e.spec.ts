import { ReadinessCheck } from '../../src/application/readiness/readiness.service';
import { expectError } from '../support/http-expectations';
import { createNote, noteId, NOTES_URL } from '../support/probe/probe-requests';
import { TestApp, TestResponse } from '../support/test-app';
import { EventStoreDbEmulator, startAppOnEventStoreDb } from '../support/eventstoredb-emulator';

/**
 * Issue #3, faults: the app on PEAQOS_EVENT_STORE=eventstoredb with its store going away and coming
 * back. The store is the EventStoreDB emulator (test/support/eventstoredb-emulator), stopped like a
 * killed server (connections dropped) and restarted on the same port with its data.
 */
const TEST_TIMEOUT_MS = 15_000;

function storeCheck(response: TestResponse): ReadinessCheck {
  return (response.body.checks as ReadinessCheck[]).find((c) => c.name === 'store')!;
}

async function readiness(t: TestApp): Promise<TestResponse> {
  return t.inject({ method: 'GET', url: '/api/v1/readiness' });
}

/** Polls until `probe` holds, up to `timeoutMs`; returns the last response. */
async function until(
  t: TestApp,
  request: () => Promise<TestResponse>,
  probe: (r: TestResponse) => boolean,
  timeoutMs = 8000,
): Promise<TestResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await request();
    if (probe(response) || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** §3.2 with the store down: 503 not_ready, Retry-After 5, the store check failing. */
function expectStoreDown(response: TestResponse) {
  expect(response.status).toBe(503);
  expect(response.headers['retry-after']).toBe('5');
  expect(response.body.status).toBe('not_ready');
  expect(storeCheck(response)).toMatchObject({ name: 'store', status: 'fail', detail: expect.stringMatching(/unavailable/) });
}

/** §0.9 SERVICE_UNAVAILABLE: 503, Retry-After, the error envelope with a reason, no internals. */
function expectServiceUnavailable(response: TestResponse) {
  expectError(response, 503, 'SERVICE_UNAVAILABLE');
  expect(response.headers['retry-after']).toBe('5');
  expect(response.body.error.details).toEqual({ reason: 'event_store_unavailable' });
  expect(response.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|grpc|UNAVAILABLE:/i);
}

describe('EventStoreDB faults (app on the EventStoreDB emulator)', () => {
  let emulator: EventStoreDbEmulator;
  let t: TestApp | undefined;

  beforeEach(async () => {
    emulator = await EventStoreDbEmulator.start();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await emulator.stop();
  });

  it(
    'the store goes away mid-run: readiness fails, writes answer 503 and write nothing, and the service recovers by itself',
    async () => {
      t = await startAppOnEventStoreDb(emulator.connectionString);
      const app = t;
      const first = await noteId(app, 'before the outage');
      const ready = await until(
        app,
        () => readiness(app),
        (r) => storeCheck(r).status === 'ok',
      );
      expect(storeCheck(ready)).toMatchObject({ status: 'ok', detail: expect.stringContaining('eventstoredb') });
      const streamsBefore = emulator.log.records.filter((r) => !r.streamId.startsWith('$')).length;

      await emulator.stop();

      expectStoreDown(await readiness(app));
      const refused = await createNote(app, { title: 'during the outage' });
      expectServiceUnavailable(refused);
      const rename = await app.inject({ method: 'PATCH', url: `${NOTES_URL}/${first}`, payload: { title: 'renamed during the outage' } });
      expectServiceUnavailable(rename);
      // Reads are served from the local read model and keep working.
      expect((await app.inject({ method: 'GET', url: `${NOTES_URL}/${first}` })).body.item.title).toBe('before the outage');

      await emulator.start();

      const recovered = await until(
        app,
        () => readiness(app),
        (r) => r.status !== 503,
      );
      expect(storeCheck(recovered).status).toBe('ok');
      // Nothing of the refused writes reached the store.
      expect(emulator.log.records.filter((r) => !r.streamId.startsWith('$')).length).toBe(streamsBefore);
      expect(emulator.log.records.map((r) => r.type)).not.toContain('probe_note.renamed');

      const second = await noteId(app, 'after the outage');
      const listed = await until(
        app,
        () => app.inject({ method: 'GET', url: NOTES_URL }),
        (r) => r.body?.items?.length === 2,
      );
      expect(listed.body.items.map((n: { id: string }) => n.id).sort()).toEqual([first, second].sort());
      const events = await app.storedEvents();
      expect(events.map((e) => e.type)).toEqual(['probe_note.created', 'probe_note.created']);
    },
    TEST_TIMEOUT_MS,
  );

  // §2.4: an unreachable EventStoreDB is not a start-up error.
  it(
    'the store is unreachable at start: the service starts, reports store fail, answers 503, and recovers when the store comes up',
    async () => {
      await emulator.stop();
      t = await startAppOnEventStoreDb(emulator.connectionString);
      const app = t;

      expect((await app.inject({ method: 'GET', url: '/health' })).status).toBe(200);
      expectStoreDown(await readiness(app));
      expectServiceUnavailable(await createNote(app, { title: 'too early' }));

      await emulator.start();

      const recovered = await until(
        app,
        () => readiness(app),
        (r) => r.status !== 503,
      );
      expect(storeCheck(recovered).status).toBe('ok');
      const id = await noteId(app, 'once the store is up');
      const read = await until(
        app,
        () => app.inject({ method: 'GET', url: `${NOTES_URL}/${id}` }),
        (r) => r.status === 200,
      );
      expect(read.body.item.title).toBe('once the store is up');
      expect((await app.storedEvents()).map((e) => e.type)).toEqual(['probe_note.created']);
    },
    TEST_TIMEOUT_MS,
  );
});
