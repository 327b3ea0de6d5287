/** Prefixed, time-ordered ids: `<prefix>_<ULID>` (§0.5). */
export interface Ids {
  next(prefix: string): string;
}
export const IDS = Symbol('Ids');
