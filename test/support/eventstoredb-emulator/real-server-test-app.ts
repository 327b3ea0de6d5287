import { EventStoreDbEventStore } from '../../../src/infrastructure/event-store/eventstoredb/eventstoredb-event-store';
import { startTestApp as startDefaultTestApp, TestApp, TestAppOverrides } from '../test-app';
import { ScopedEventStore } from './scoped-event-store';

export * from '../test-app';

/**
 * Stand-in for test/support/test-app.ts when `npm run test:eventstoredb` runs the e2e suite against a
 * real server (scripts/jest.eventstoredb.config.js maps `../support/test-app` here). Every app gets the
 * EventStoreDB adapter on PEAQOS_TEST_EVENTSTORE_CONNECTION_STRING, seen through a ScopedEventStore
 * that starts empty, so tests written for a fresh store hold on a shared server. Apps that bring their
 * own store wrapper (fault injection on SQLite) or choose a store themselves are left as they are.
 */
export async function startTestApp(overrides: TestAppOverrides = {}): Promise<TestApp> {
  const connectionString = process.env.PEAQOS_TEST_EVENTSTORE_CONNECTION_STRING;
  if (!connectionString || overrides.wrapEventStore || overrides.env?.PEAQOS_EVENT_STORE) return startDefaultTestApp(overrides);
  const store = await ScopedEventStore.fromNow(new EventStoreDbEventStore({ connectionString }));
  return startDefaultTestApp({
    ...overrides,
    env: { PEAQOS_EVENT_STORE: 'eventstoredb', PEAQOS_EVENTSTORE_CONNECTION_STRING: connectionString, ...overrides.env },
    wrapEventStore: (sqlite) => {
      void sqlite.close();
      return store;
    },
  });
}

export async function withTestApp<T>(overrides: TestAppOverrides, use: (t: TestApp) => Promise<T>): Promise<T> {
  const t = await startTestApp(overrides);
  try {
    return await use(t);
  } finally {
    await t.close();
  }
}
