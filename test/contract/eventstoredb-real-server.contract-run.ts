import { EventStore } from '../../src/application/ports/event-store.port';
import { EventStoreDbEventStore } from '../../src/infrastructure/event-store/eventstoredb/eventstoredb-event-store';
import { ScopedEventStore } from '../support/eventstoredb-emulator/scoped-event-store';
import { describeEventStoreContract } from './event-store.contract';

/**
 * The port contract against a REAL EventStoreDB/KurrentDB server. Not part of `npm test` (the file name
 * does not end in .spec.ts): `npm run test:eventstoredb` runs it through scripts/jest.eventstoredb.config.js
 * with PEAQOS_TEST_EVENTSTORE_CONNECTION_STRING set from PEAQOS_EVENTSTORE_CONNECTION_STRING.
 *
 * A real server cannot be emptied per test, so each store is a ScopedEventStore: a view of `$all` that
 * starts at the server's head when the test begins. Use a dedicated server (e.g. `--mem-db`) that
 * nothing else writes to while the suite runs.
 */
const connectionString = process.env.PEAQOS_TEST_EVENTSTORE_CONNECTION_STRING;
if (!connectionString)
  throw new Error('PEAQOS_TEST_EVENTSTORE_CONNECTION_STRING is not set; run this suite with `npm run test:eventstoredb`');

const baselines = new WeakMap<EventStore, ScopedEventStore['baseline']>();

describeEventStoreContract('eventstoredb (real server)', {
  contiguousPositions: false,
  async create() {
    const store = await ScopedEventStore.fromNow(new EventStoreDbEventStore({ connectionString }));
    baselines.set(store, store.baseline);
    return store;
  },
  async reopen(store) {
    await store.close();
    const reopened = new ScopedEventStore(new EventStoreDbEventStore({ connectionString }), baselines.get(store) ?? null);
    baselines.set(reopened, reopened.baseline);
    return reopened;
  },
});
