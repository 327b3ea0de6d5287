import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventStoreUnavailableError, NewEvent } from '../../../application/ports/event-store.port';
import { SqliteEventStore } from './sqlite-event-store';

/** The WAL fsync that makes an append durable (the contract suite covers everything else). */
describe('SqliteEventStore durability', () => {
  let dir: string;
  let store: SqliteEventStore;
  /** Every fsync the store asks for: the descriptor, and how to let it (really) happen or fail. */
  let syncs: Array<{ fd: number; run: () => void; fail: (error: Error) => void }>;
  let autoSync: boolean;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peaqos-sqlite-sync-'));
    syncs = [];
    autoSync = false;
    store = new SqliteEventStore({
      path: path.join(dir, 'events.db'),
      fsync: (fd) =>
        new Promise<void>((resolve, reject) => {
          const run = () => fs.fsync(fd, (error) => (error ? reject(error) : resolve()));
          if (autoSync) run();
          else syncs.push({ fd, run, fail: reject });
        }),
    });
  });
  afterEach(async () => {
    autoSync = true;
    for (const s of syncs.splice(0)) s.run();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const event = (n: number): NewEvent => ({
    id: `evt_${n}`,
    type: 'test.happened',
    data: { n },
    metadata: {
      correlationId: 'corr',
      causationId: null,
      actor: { type: 'system', id: null },
      occurredAt: '2026-11-23T00:00:00.000Z',
      schemaVersion: 1,
    },
  });

  it('resolves an append only after the WAL file is fsynced, and wakes subscribers only then', async () => {
    const seen: string[] = [];
    const subscription = store.subscribeAll({}, (events) => {
      seen.push(...events.map((e) => e.id));
    });

    let resolved = false;
    const append = store.append('s-1', [event(1)], 'no_stream').then((r) => {
      resolved = true;
      return r;
    });
    await waitUntil(() => syncs.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(false);
    expect(seen).toEqual([]);
    // The fsync is of the WAL file.
    expect(fs.readlinkSync(`/proc/self/fd/${syncs[0].fd}`)).toBe(path.join(fs.realpathSync(dir), 'events.db-wal'));

    syncs.shift()!.run();
    await expect(append).resolves.toEqual({ nextRevision: 0, position: '1' });
    await waitUntil(() => seen.length === 1);
    expect(seen).toEqual(['evt_1']);
    await subscription.close();
  });

  it('covers every commit written while an fsync ran with the next single fsync (group commit)', async () => {
    const first = store.append('s-0', [event(0)], 'no_stream');
    await waitUntil(() => syncs.length === 1);
    // Written in three later commits while the first fsync is still running.
    const later: Array<Promise<unknown>> = [];
    for (let i = 1; i <= 3; i++) {
      later.push(store.append(`s-${i}`, [event(i)], 'no_stream'));
      await new Promise((r) => setImmediate(r));
    }
    expect(syncs).toHaveLength(1);
    syncs.shift()!.run();
    await first;
    await waitUntil(() => syncs.length === 1);
    syncs.shift()!.run();
    await Promise.all(later);
    expect(syncs).toHaveLength(0);
  });

  it('never acknowledges a commit whose fsync failed, and refuses every later append', async () => {
    const append = store.append('s-1', [event(1)], 'no_stream');
    await waitUntil(() => syncs.length === 1);
    syncs.shift()!.fail(new Error('EIO: i/o error, fsync'));
    await expect(append).rejects.toThrow(EventStoreUnavailableError);
    await expect(store.append('s-2', [event(2)], 'no_stream')).rejects.toThrow(/fsync failed: EIO/);
  });

  it('close waits for the commits it flushes to be synced', async () => {
    autoSync = true;
    const append = store.append('s-1', [event(1)], 'no_stream');
    await store.close();
    await expect(append).resolves.toEqual({ nextRevision: 0, position: '1' });
    const reopened = new SqliteEventStore({ path: path.join(dir, 'events.db') });
    expect((await reopened.readStream('s-1')).map((e) => e.id)).toEqual(['evt_1']);
    await reopened.close();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
