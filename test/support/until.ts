/** How long and how often {@link until} and {@link becomes} poll, and what the condition is called. */
export interface UntilOptions {
  /** How long to keep polling before giving up; 5000 ms unless told. */
  timeoutMs?: number;
  /** The pause between two probes; 10 ms unless told. */
  intervalMs?: number;
  /** What is awaited, for the error on timeout (e.g. 'the projection failed'). */
  what?: string;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_INTERVAL_MS = 10;

/**
 * Polls `probe` until it answers true, or until `timeoutMs` has passed (the probe is tried once more
 * at the deadline); answers whether it did. A probe that throws ends the wait with its error.
 */
export async function becomes(probe: () => boolean | Promise<boolean>, options: UntilOptions = {}): Promise<boolean> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, intervalMs = DEFAULT_INTERVAL_MS } = options;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return await probe();
}

/**
 * Polls `probe` until it answers true; throws an Error naming `what` if it has not within `timeoutMs`.
 * A probe that throws ends the wait with its error.
 */
export async function until(probe: () => boolean | Promise<boolean>, options: UntilOptions = {}): Promise<void> {
  if (await becomes(probe, options)) return;
  const { timeoutMs = DEFAULT_TIMEOUT_MS, what = 'the condition held' } = options;
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}
