import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventStore } from '../../src/application/ports/event-store.port';
import { SqliteEventStore } from '../../src/infrastructure/event-store/sqlite/sqlite-event-store';
import { describeEventStoreContract } from './event-store.contract';

/** SQLite on a file: a fresh temp directory per store, reopen = close + new instance on the same file. */
function fileHarness() {
  const dirs: string[] = [];
  const paths = new WeakMap<EventStore, string>();
  const open = (file: string) => {
    const store = new SqliteEventStore({ path: file });
    paths.set(store, file);
    return store;
  };
  return {
    contiguousPositions: true,
    async create(): Promise<EventStore> {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peaqos-contract-'));
      dirs.push(dir);
      return open(path.join(dir, 'events.db'));
    },
    async reopen(store: EventStore): Promise<EventStore> {
      const file = paths.get(store);
      if (!file) throw new Error('reopen: unknown store');
      await store.close();
      return open(file);
    },
    async cleanup(): Promise<void> {
      for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeEventStoreContract('sqlite file', fileHarness());

describeEventStoreContract('sqlite :memory:', {
  contiguousPositions: true,
  async create(): Promise<EventStore> {
    return new SqliteEventStore({ path: ':memory:' });
  },
});
