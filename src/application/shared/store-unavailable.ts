import { DomainError } from '../../domain/shared/domain-error';
import { EventStoreUnavailableError } from '../ports/event-store.port';

/** An unreachable store is 503 SERVICE_UNAVAILABLE (§0.9) for every request path; other errors pass unchanged. */
export function asServiceUnavailable(error: unknown): unknown {
  if (error instanceof EventStoreUnavailableError) {
    return new DomainError('SERVICE_UNAVAILABLE', 'The event store is unavailable; nothing was written', {
      reason: 'event_store_unavailable',
    });
  }
  return error;
}

/** Runs a store call, translating unavailability into SERVICE_UNAVAILABLE. */
export async function withStore<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asServiceUnavailable(error);
  }
}
