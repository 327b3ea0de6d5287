import { randomUUID } from 'node:crypto';
import { EventStore } from '../../src/application/ports/event-store.port';
import { MAX_CONFLICT_RETRIES } from '../../src/application/shared/aggregate-streams';
import { expectError } from '../support/http-expectations';
import { probeNoteStream } from '../support/probe/probe-note.decider';
import { noteId, renameNote } from '../support/probe/probe-requests';
import { startTestApp, TestApp } from '../support/test-app';

type Contention = { streamId: string | null; remaining: number; competing: number };

/**
 * An event store in which a competing writer appends to one stream right before each of our next
 * `remaining` appends to it, so the expected revision each of those attempts computed is stale.
 */
function contendedStore(store: EventStore, contention: Contention): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'append') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<EventStore['append']>) => {
        const [streamId, events] = args;
        if (streamId === contention.streamId && contention.remaining > 0) {
          contention.remaining -= 1;
          contention.competing += 1;
          const competitor = {
            id: `evt_${randomUUID()}`,
            type: 'probe_note.renamed',
            data: { title: `competitor ${contention.competing}` },
          };
          await target.append(streamId, [{ ...competitor, metadata: events[0].metadata }], 'any');
        }
        return target.append(...args);
      };
    },
  });
}

describe('§0.15 concurrency: internal retries, then 409 CONCURRENCY_CONFLICT', () => {
  let t: TestApp;
  const contention: Contention = { streamId: null, remaining: 0, competing: 0 };

  beforeAll(async () => {
    t = await startTestApp({ wrapEventStore: (store) => contendedStore(store, contention) });
  });
  afterAll(() => t.close());

  async function contend(title: string, attempts: number): Promise<string> {
    const id = await noteId(t, title);
    Object.assign(contention, { streamId: probeNoteStream(id).streamId, remaining: attempts, competing: 0 });
    return id;
  }

  async function titlesOf(id: string): Promise<unknown[]> {
    return (await t.storedEvents()).filter((e) => e.streamId === probeNoteStream(id).streamId).map((e) => e.data.title);
  }

  it('retries the losing write 3 times, then answers 409 CONCURRENCY_CONFLICT with nothing of its own written', async () => {
    const id = await contend('contended', Number.POSITIVE_INFINITY);

    const response = await renameNote(t, id, 'mine');

    expectError(response, 409, 'CONCURRENCY_CONFLICT');
    expect(response.body.error.details).toEqual({ entityType: 'probe-note', id });
    // The first attempt plus MAX_CONFLICT_RETRIES retries, each beaten by the competitor.
    expect(contention.competing).toBe(1 + MAX_CONFLICT_RETRIES);
    expect(await titlesOf(id)).toEqual(['contended', 'competitor 1', 'competitor 2', 'competitor 3', 'competitor 4']);
  });

  it('a write that loses its first attempts succeeds on a retry, appended after the competitors', async () => {
    const id = await contend('raced', MAX_CONFLICT_RETRIES);

    const response = await renameNote(t, id, 'mine');

    expect(response.status).toBe(200);
    expect(response.body.item.title).toBe('mine');
    expect(await titlesOf(id)).toEqual(['raced', 'competitor 1', 'competitor 2', 'competitor 3', 'mine']);
  });
});
