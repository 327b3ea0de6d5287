import { canonicalHash } from './canonical-json';

export const GENESIS_HASH = '0'.repeat(64);

export type ChainLink = {
  prevHash: string;
  streamId: string;
  streamRevision: number;
  type: string;
  data: unknown;
  occurredAt: string;
};

/** §8.7.3: SHA-256 hex of the canonical JSON of exactly these six members. */
export function chainHash(link: ChainLink): string {
  return canonicalHash({
    prevHash: link.prevHash,
    streamId: link.streamId,
    streamRevision: link.streamRevision,
    type: link.type,
    data: link.data,
    occurredAt: link.occurredAt,
  });
}

export type ChainedEvent = {
  streamId: string;
  revision: bigint | number;
  type: string;
  data: unknown;
  metadata: { occurredAt: string; prevHash: string; hash: string };
};

export type ChainBreak = { streamId: string; revision: number; reason: 'prev_hash_mismatch' | 'hash_mismatch' | 'revision_gap' };

/**
 * Verifies one stream's events in revision order (§8.7.3 steps 3–4). A complete stream starts at
 * revision 0 with the genesis hash; a partial export is verified from its first event onwards.
 */
export function verifyChain(events: ChainedEvent[]): ChainBreak | null {
  if (events.length === 0) return null;
  const first = Number(events[0].revision);
  let prev = first === 0 ? GENESIS_HASH : events[0].metadata.prevHash;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const revision = Number(e.revision);
    if (revision !== first + i) return { streamId: e.streamId, revision, reason: 'revision_gap' };
    if (e.metadata.prevHash !== prev) return { streamId: e.streamId, revision, reason: 'prev_hash_mismatch' };
    const recomputed = chainHash({
      prevHash: prev,
      streamId: e.streamId,
      streamRevision: revision,
      type: e.type,
      data: e.data,
      occurredAt: e.metadata.occurredAt,
    });
    if (recomputed !== e.metadata.hash) return { streamId: e.streamId, revision, reason: 'hash_mismatch' };
    prev = e.metadata.hash;
  }
  return null;
}
