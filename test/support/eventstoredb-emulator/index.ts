export { EventStoreDbEmulator } from './emulator';
export type { EmulatorOptions, CallCounts } from './emulator';
export { EventLog } from './event-log';
export type { LogRecord } from './event-log';
export { startAppOnEventStoreDb } from './app-on-eventstoredb';
