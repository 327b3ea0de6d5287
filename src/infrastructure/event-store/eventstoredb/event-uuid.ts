import { createHash } from 'node:crypto';

/** Domain separation for the hash, so the derived UUIDs never collide with another scheme's. */
const NAMESPACE = 'peaqos/event-id/v1\u0000';

/**
 * EventStoreDB event ids are UUIDs; the port's ids are `evt_<ULID>` strings. The UUID is derived
 * deterministically (RFC 9562 version 8, "custom": the first 128 bits of SHA-256 over the port id,
 * with the version and variant bits set), so a retried append sends the same UUIDs and EventStoreDB's
 * idempotency check recognises it. The original id travels in the event metadata.
 */
export function eventUuid(id: string): string {
  const bytes = createHash('sha256')
    .update(NAMESPACE + id, 'utf8')
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122/9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
