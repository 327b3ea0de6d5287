import { DomainError, ErrorDetails } from '../../src/domain/shared/domain-error';

/**
 * Runs `run`, which must throw a DomainError, and returns its code and details for one `toEqual`.
 * For pure functions outside a decider (deciders use deciderSpec's `thenThrows`).
 */
export function refusal(run: () => unknown): { code: string; details: ErrorDetails | undefined } {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error('Expected a DomainError, but nothing was thrown');
}
