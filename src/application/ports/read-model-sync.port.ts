import { Position } from './event-store.port';

/**
 * Read-your-writes (ARCHITECTURE §4): a command handler waits until the local projections have
 * processed the position it appended before the HTTP response is sent.
 */
export interface ReadModelSync {
  /** Resolves `true` once every projection passed `position`, `false` when `timeoutMs` elapsed first. */
  waitFor(position: Position, timeoutMs?: number): Promise<boolean>;
}
export const READ_MODEL_SYNC = Symbol('ReadModelSync');
