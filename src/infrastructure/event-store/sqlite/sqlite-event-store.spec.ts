import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { until } from '../../../../test/support/until';
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
    await until(() => syncs.length === 1, { intervalMs: 2, what: 'an fsync is pending' });
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(false);
    expect(seen).toEqual([]);
    // The fsync is of the WAL file.
    expect(fs.readlinkSync(`/proc/self/fd/${syncs[0].fd}`)).toBe(path.join(fs.realpathSync(dir), 'events.db-wal'));

    syncs.shift()!.run();
    await expect(append).resolves.toEqual({ nextRevision: 0, position: '1' });
    await until(() => seen.length === 1, { intervalMs: 2, what: 'the subscriber saw the event' });
    expect(seen).toEqual(['evt_1']);
    await subscription.close();
  });

  it('covers every commit written while an fsync ran with the next single fsync (group commit)', async () => {
    const first = store.append('s-0', [event(0)], 'no_stream');
    await until(() => syncs.length === 1, { intervalMs: 2, what: 'an fsync is pending' });
    // Written in three later commits while the first fsync is still running.
    const later: Array<Promise<unknown>> = [];
    for (let i = 1; i <= 3; i++) {
      later.push(store.append(`s-${i}`, [event(i)], 'no_stream'));
      await new Promise((r) => setImmediate(r));
    }
    expect(syncs).toHaveLength(1);
    syncs.shift()!.run();
    await first;
    await until(() => syncs.length === 1, { intervalMs: 2, what: 'an fsync is pending' });
    syncs.shift()!.run();
    await Promise.all(later);
    expect(syncs).toHaveLength(0);
  });

  it('says an append is committed (onCommitted) before its fsync, and acknowledges it only after', async () => {
    const committed: unknown[] = [];
    let resolved = false;
    const append = store.append('s-1', [event(1)], 'no_stream', { onCommitted: (result) => committed.push(result) }).then((r) => {
      resolved = true;
      return r;
    });
    await until(() => syncs.length === 1, { intervalMs: 2, what: 'an fsync is pending' });
    expect(committed).toEqual([{ nextRevision: 0, position: '1' }]);
    expect(resolved).toBe(false);
    // Committed: readable, and the next append on the stream can be decided and written on top of it.
    expect((await store.readStream('s-1')).map((e) => e.id)).toEqual(['evt_1']);
    const next = store.append('s-1', [event(2)], 0);
    syncs.shift()!.run();
    await expect(append).resolves.toEqual({ nextRevision: 0, position: '1' });
    await until(() => syncs.length === 1, { intervalMs: 2, what: 'an fsync is pending' });
    syncs.shift()!.run();
    await expect(next).resolves.toEqual({ nextRevision: 1, position: '2' });
    expect(committed).toHaveLength(1);
  });

  it("a throwing onCommitted is the writer's problem: the append and the rest of its batch go on", async () => {
    autoSync = true;
    const failing = store.append('s-1', [event(1)], 'no_stream', {
      onCommitted: () => {
        throw new Error('writer bug');
      },
    });
    const other = store.append('s-2', [event(2)], 'no_stream');
    await expect(failing).resolves.toEqual({ nextRevision: 0, position: '1' });
    await expect(other).resolves.toEqual({ nextRevision: 0, position: '2' });
  });

  it('never acknowledges a commit whose fsync failed, and refuses every later append', async () => {
    const append = store.append('s-1', [event(1)], 'no_stream');
    await until(() => syncs.length === 1, { intervalMs: 2, what: 'an fsync is pending' });
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

/** The in-memory `$all` tail and stream heads must never hide another connection's (process's) writes. */
describe('SqliteEventStore in-memory tail', () => {
  let dir: string;
  let file: string;
  let mine: SqliteEventStore;
  let other: SqliteEventStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peaqos-sqlite-tail-'));
    file = path.join(dir, 'events.db');
    mine = new SqliteEventStore({ path: file });
    other = new SqliteEventStore({ path: file });
  });
  afterEach(async () => {
    await mine.close();
    await other.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ev = (id: string): NewEvent => ({
    id,
    type: 'test.happened',
    data: { id },
    metadata: {
      correlationId: 'corr',
      causationId: null,
      actor: { type: 'system', id: null },
      occurredAt: '2026-11-23T00:00:00.000Z',
      schemaVersion: 1,
    },
  });
  const ids = (events: Array<{ id: string }>) => events.map((e) => e.id);

  it('serves `$all` readers at the head from memory: every reader gets the same decoded event', async () => {
    await mine.append('a', [ev('e1'), ev('e2')], 'no_stream');
    const [first, second] = [await mine.readAll({ after: '0' }), await mine.readAll({ after: '0' })];
    expect(ids(first)).toEqual(['e1', 'e2']);
    expect(second[1]).toBe(first[1]);
    expect(first[1].data).toEqual({ id: 'e2' });
    const [one] = await mine.readAll({ after: '1', limit: 1 });
    expect(one).toBe(first[1]);
    expect(await mine.readAll({ after: '2' })).toEqual([]);
  });

  it("sees another connection's commit at the head, in `$all` and in a stream's tail", async () => {
    await mine.append('a', [ev('e1')], 'no_stream');
    expect(await mine.readStream('a', { fromRevision: 1 })).toEqual([]);
    expect(await mine.readAll({ after: '1' })).toEqual([]);

    await other.append('a', [ev('e2')], 0);

    expect(ids(await mine.readStream('a', { fromRevision: 1 }))).toEqual(['e2']);
    expect(ids(await mine.readAll({ after: '1' }))).toEqual(['e2']);
  });

  it("never serves a tail with another connection's commit missing between two of its own", async () => {
    await mine.append('a', [ev('e1')], 'no_stream');
    await other.append('b', [ev('e2')], 'no_stream');
    await mine.append('a', [ev('e3')], 0);
    expect(ids(await mine.readAll({ after: '0' }))).toEqual(['e1', 'e2', 'e3']);
    expect(ids(await mine.readAll())).toEqual(['e1', 'e2', 'e3']);
  });

  it('knows that a stream read whole has nothing after its last event, until anyone appends', async () => {
    await other.append('c', [ev('e1')], 'no_stream');
    expect(ids(await mine.readStream('c'))).toEqual(['e1']);
    expect(await mine.readStream('c', { fromRevision: 1 })).toEqual([]);
    expect(await mine.readStream('missing')).toEqual([]);
    await other.append('missing', [ev('e2')], 'no_stream');
    expect(ids(await mine.readStream('missing'))).toEqual(['e2']);
  });
});
