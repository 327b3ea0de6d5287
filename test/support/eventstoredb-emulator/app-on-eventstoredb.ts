import { startTestApp, TestApp, TestAppOverrides } from '../test-app';

/**
 * The real application (test/support/test-app.ts: createApp with the probe feature, read model in a
 * fresh temp SQLite file) configured exactly as an operator would: PEAQOS_EVENT_STORE=eventstoredb and
 * PEAQOS_EVENTSTORE_CONNECTION_STRING (the emulator's, or a real server's).
 */
export function startAppOnEventStoreDb(
  connectionString: string,
  overrides: Omit<TestAppOverrides, 'wrapEventStore'> = {},
): Promise<TestApp> {
  return startTestApp({
    ...overrides,
    env: { PEAQOS_EVENT_STORE: 'eventstoredb', PEAQOS_EVENTSTORE_CONNECTION_STRING: connectionString, ...overrides.env },
  });
}
