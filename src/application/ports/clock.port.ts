export interface Clock {
  now(): Date;
}
export const CLOCK = Symbol('Clock');

/** ISO-8601 UTC with milliseconds (§0.4). */
export function isoNow(clock: Clock): string {
  return clock.now().toISOString();
}
