import { EventStore } from '../../application/ports/event-store.port';
import { AppConfig } from '../../config/app-config';
import { StartupError } from '../core/startup-error';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

/** Opens the configured event store (§2.2 PEAQOS_EVENT_STORE). */
export function openEventStore(config: AppConfig): EventStore {
  if (config.eventStore === 'eventstoredb') {
    throw new StartupError('PEAQOS_EVENT_STORE', 'the eventstoredb adapter is not part of this build yet; use sqlite');
  }
  try {
    return new SqliteEventStore({ path: config.sqlitePath });
  } catch (error) {
    throw new StartupError('PEAQOS_SQLITE_PATH', `cannot open ${config.sqlitePath} for writing: ${(error as Error).message}`);
  }
}
