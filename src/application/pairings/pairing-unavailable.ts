import { DomainError } from '../../domain/shared/domain-error';

/**
 * §0.9 / §10.1 item 20: for pairing operations an unavailable event store is
 * `503 AGENT_PAIRING_UNAVAILABLE`, not the generic SERVICE_UNAVAILABLE.
 */
export async function withPairingStore<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DomainError && error.code === 'SERVICE_UNAVAILABLE' && error.details?.reason === 'event_store_unavailable') {
      throw new DomainError('AGENT_PAIRING_UNAVAILABLE', 'Pairing state cannot be read or written right now; retry later');
    }
    throw error;
  }
}
