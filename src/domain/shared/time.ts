/** Time rules shared by the aggregates. Timestamps are §0.4 ISO strings; JWT times are NumericDate seconds. */

/** §0.4: a point in time `now` is expired relative to `expiresAt` when `now >= expiresAt`. */
export function isExpiredAt(now: string, expiresAt: string): boolean {
  return Date.parse(now) >= Date.parse(expiresAt);
}

/** The UTC day (`YYYY-MM-DD`) a point in time falls on (§5.7 `day`). */
export function utcDay(at: string): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** §0.4: a JWT NumericDate (whole seconds) as an ISO timestamp, which therefore ends in `.000Z`. */
export function isoFromNumericDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** `floor(t / 1000)` of an ISO timestamp or a Date (§5.5 `iat`). */
export function numericDate(at: string | Date): number {
  return Math.floor((typeof at === 'string' ? Date.parse(at) : at.getTime()) / 1000);
}
