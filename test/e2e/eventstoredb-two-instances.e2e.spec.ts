import { randomUUID } from 'node:crypto';
import { EVENT_STORE, EventStore, StoredEvent, WrongExpectedRevisionError } from '../../src/application/ports/event-store.port';
import { verifyChain } from '../../src/domain/shared/hash-chain';
import { expectError } from '../support/http-expectations';
import { noteId, NOTES_URL, renameNote } from '../support/probe/probe-requests';
import { TestApp, TestResponse } from '../support/test-app';
import { EventStoreDbEmulator, startAppOnEventStoreDb } from '../support/eventstoredb-emulator';

/**
 * Issue #3, two instances, one store: two app instances (each with its own local SQLite read model)
 * on one EventStoreDB. By default that is the EventStoreDB emulator (test/support/eventstoredb-emulator);
 * `npm run test:eventstoredb` points it at a real server through PEAQOS_TEST_EVENTSTORE_CONNECTION_STRING.
 */
const TEST_TIMEOUT_MS = 15_000;
const external = process.env.PEAQOS_TEST_EVENTSTORE_CONNECTION_STRING || undefined;

async function until(request: () => Promise<TestResponse>, probe: (r: TestResponse) => boolean, timeoutMs = 8000): Promise<TestResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await request();
    if (probe(response) || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe(`two instances on one EventStoreDB (${external ? 'real server' : 'emulator'})`, () => {
  let emulator: EventStoreDbEmulator | undefined;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    emulator = external ? undefined : await EventStoreDbEmulator.start();
    const connectionString = external ?? emulator!.connectionString;
    a = await startAppOnEventStoreDb(connectionString);
    b = await startAppOnEventStoreDb(connectionString);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await emulator?.stop();
  });

  const getNote = (t: TestApp, id: string) => t.inject({ method: 'GET', url: `${NOTES_URL}/${id}` });

  it(
    "a write through instance A appears in instance B's read model after catch-up",
    async () => {
      expect(a.paths.readModel).not.toBe(b.paths.readModel);
      const id = await noteId(a, 'written through A');
      const seenByB = await until(
        () => getNote(b, id),
        (r) => r.status === 200,
      );
      expect(seenByB.status).toBe(200);
      expect(seenByB.body.item).toMatchObject({ id, title: 'written through A' });
      const listedByB = await b.inject({ method: 'GET', url: `${NOTES_URL}?limit=500` });
      expect(listedByB.body.items.map((n: { id: string }) => n.id)).toContain(id);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'conflicting writes through A and B resolve by optimistic concurrency: every accepted write is stored once, in one chain, none lost',
    async () => {
      const id = await noteId(a, 'title 0');
      const titles = Array.from({ length: 12 }, (_, i) => `title ${i + 1}`);
      const responses = await Promise.all(titles.map((title, i) => renameNote(i % 2 === 0 ? a : b, id, title)));

      const accepted = titles.filter((_, i) => responses[i].status === 200);
      responses.forEach((r) => {
        if (r.status !== 200) expectError(r, 409, 'CONCURRENCY_CONFLICT');
      });
      expect(accepted.length).toBeGreaterThan(0);
      expect(titles.some((_, i) => i % 2 === 0 && responses[i].status === 200)).toBe(true);
      expect(titles.some((_, i) => i % 2 === 1 && responses[i].status === 200)).toBe(true);

      const stream: StoredEvent[] = await a.app.get<EventStore>(EVENT_STORE).readStream(`probe-note-${id}`);
      expect(stream.map((e) => e.revision)).toEqual(stream.map((_, i) => i));
      expect(verifyChain(stream)).toBeNull();
      const renamed = stream.filter((e) => e.type === 'probe_note.renamed').map((e) => e.data.title as string);
      expect([...renamed].sort()).toEqual([...accepted].sort());

      const last = renamed[renamed.length - 1];
      for (const t of [a, b]) {
        const view = await until(
          () => getNote(t, id),
          (r) => r.body?.item?.title === last,
        );
        expect(view.body.item.title).toBe(last);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a reservation (no_stream) raced through both instances has exactly one winner',
    async () => {
      const stores = [a, b].map((t) => t.app.get<EventStore>(EVENT_STORE));
      for (let round = 0; round < 10; round++) {
        const streamId = `_reservation-two-instances-${randomUUID()}`;
        const claims = stores.map((store, i) => ({
          id: `evt_${randomUUID()}`,
          type: 'reservation.claimed',
          data: { instance: i },
          metadata: {
            correlationId: 'two-instances',
            causationId: null,
            actor: { type: 'system' as const, id: null },
            occurredAt: new Date().toISOString(),
            schemaVersion: 1,
          },
        }));
        const results = await Promise.allSettled(stores.map((store, i) => store.append(streamId, [claims[i]], 'no_stream')));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(loser.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await stores[0].readStream(streamId)).toHaveLength(1);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
