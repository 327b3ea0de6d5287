import {
  AccessDeniedError,
  InvalidArgumentError,
  MaxAppendSizeExceededError,
  RequiredMetadataPropertyMissingError,
  StreamDeletedError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { EventStoreUnavailableError } from '../../../application/ports/event-store.port';

/** Our own deadline expired (the server did not answer in time). */
export class EsdbDeadlineError extends Error {
  constructor(operation: string, ms: number) {
    super(`no answer from EventStoreDB within ${ms} ms (${operation})`);
    this.name = 'EsdbDeadlineError';
  }
}

/**
 * Errors that say something definite about the request (not about reachability): retrying the same
 * call cannot help, and they are not an outage.
 */
export function isDefiniteRejection(error: unknown): boolean {
  return (
    error instanceof WrongExpectedVersionError ||
    error instanceof StreamDeletedError ||
    error instanceof MaxAppendSizeExceededError ||
    error instanceof RequiredMetadataPropertyMissingError ||
    error instanceof InvalidArgumentError ||
    error instanceof AccessDeniedError
  );
}

/** Programming errors are rethrown as they are; they are not an outage of the store. */
export function isBug(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError || error instanceof ReferenceError;
}

/**
 * Maps a failure of a call to EventStoreDB onto the port: unreachable, timed out, cancelled by the
 * server, no leader, discovery failed, access denied (misconfigured credentials) → EventStoreUnavailableError;
 * programming errors and definite rejections other than access → rethrown unchanged.
 */
export function toPortError(operation: string, error: unknown): unknown {
  if (error instanceof EventStoreUnavailableError) return error;
  if (isBug(error)) return error;
  if (isDefiniteRejection(error) && !(error instanceof AccessDeniedError)) return error;
  const detail = error instanceof Error ? error.message || error.name : String(error);
  return new EventStoreUnavailableError(`EventStoreDB unavailable (${operation}): ${detail}`, error);
}
