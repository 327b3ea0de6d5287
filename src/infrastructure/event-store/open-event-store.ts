import { EventStore } from '../../application/ports/event-store.port';
import { AppConfig } from '../../config/app-config';
import { StartupError } from '../core/startup-error';
import { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

/** Opens the configured event store (§2.2 PEAQOS_EVENT_STORE). */
export function openEventStore(config: AppConfig): EventStore {
  if (config.eventStore === 'eventstoredb') return openEventStoreDb(config);
  try {
    return new SqliteEventStore({ path: config.sqlitePath });
  } catch (error) {
    throw new StartupError('PEAQOS_SQLITE_PATH', `cannot open ${config.sqlitePath} for writing: ${(error as Error).message}`);
  }
}

/**
 * EventStoreDB: the client connects lazily, so an unreachable server is not a start-up error (§2.4);
 * it shows up as `store: fail` in readiness and as 503 on writes until the server is back. Only a
 * connection string the client cannot parse stops the start.
 */
function openEventStoreDb(config: AppConfig): EventStore {
  const connectionString = config.eventStoreConnectionString;
  if (!connectionString) throw new StartupError('PEAQOS_EVENTSTORE_CONNECTION_STRING', 'is required when PEAQOS_EVENT_STORE=eventstoredb');
  try {
    return new EventStoreDbEventStore({ connectionString });
  } catch (error) {
    throw new StartupError('PEAQOS_EVENTSTORE_CONNECTION_STRING', `cannot be used: ${(error as Error).message}`);
  }
}
