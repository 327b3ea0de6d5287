import { canonicalJson } from './canonical-json';
import { ChainedEvent, chainHash, ChainLink, GENESIS_HASH, verifyChain } from './hash-chain';

// §8.7.3 test vector: the first two events of one policy stream.
const STREAM = 'policy-pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const HASH_0 = '42af64ba2a437d447b7016c5c109fd43d50399c1ff6b9b4ad97e578c801c5cc1';
const HASH_1 = '47e25650c20fa9f45d36c5c2ecf631aa1bc9843012fd27445eb17a2dfbed9cf4';
const CANONICAL_0 =
  '{"data":{"createdAt":"2025-01-01T00:00:00.000Z","description":"","id":"pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C","name":"Price feeds only",' +
  '"rules":{"allowedServiceTypes":["oracle.price-feed"]},"updatedAt":"2025-01-01T00:00:00.000Z"},"occurredAt":"2025-01-01T00:00:00.000Z",' +
  '"prevHash":"0000000000000000000000000000000000000000000000000000000000000000","streamId":"policy-pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C",' +
  '"streamRevision":0,"type":"policy.created"}';
const CANONICAL_1 =
  '{"data":{"id":"pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C"},"occurredAt":"2025-01-02T00:00:00.000Z",' +
  '"prevHash":"42af64ba2a437d447b7016c5c109fd43d50399c1ff6b9b4ad97e578c801c5cc1","streamId":"policy-pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C",' +
  '"streamRevision":1,"type":"policy.deleted"}';

const createdData = {
  id: 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C',
  name: 'Price feeds only',
  description: '',
  rules: { allowedServiceTypes: ['oracle.price-feed'] },
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
};
const deletedData = { id: 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C' };
const LINK_0 = {
  prevHash: GENESIS_HASH,
  streamId: STREAM,
  streamRevision: 0,
  type: 'policy.created',
  data: createdData,
  occurredAt: '2025-01-01T00:00:00.000Z',
};
const LINK_1 = {
  prevHash: HASH_0,
  streamId: STREAM,
  streamRevision: 1,
  type: 'policy.deleted',
  data: deletedData,
  occurredAt: '2025-01-02T00:00:00.000Z',
};

/** The stored event a link describes, carrying `hash`. */
function asEvent(link: ChainLink, hash: string): ChainedEvent {
  const { streamId, streamRevision, type, data, occurredAt, prevHash } = link;
  return { streamId, revision: streamRevision, type, data, metadata: { occurredAt, prevHash, hash } };
}

function vectorEvents(): ChainedEvent[] {
  return [asEvent(LINK_0, HASH_0), asEvent(LINK_1, HASH_1)];
}

/** Builds a valid chain of the first `count` events of one stream. */
function chain(count: number): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let revision = 0; revision < count; revision++) {
    const occurredAt = new Date(Date.UTC(2025, 0, 1, 0, 0, revision)).toISOString();
    const link = {
      prevHash,
      streamId: 'thing-1',
      streamRevision: revision,
      type: 'thing.changed',
      data: { n: revision, nested: { list: [revision, 'x'] } },
      occurredAt,
    };
    const hash = chainHash(link);
    events.push(asEvent(link, hash));
    prevHash = hash;
  }
  return events;
}

describe('hash chain (§8.7.3)', () => {
  describe('the test vector', () => {
    it('has 64 zeros as the genesis prevHash', () => {
      expect(GENESIS_HASH).toBe('0000000000000000000000000000000000000000000000000000000000000000');
    });

    it('hashes the canonical JSON of exactly the six members of revision 0', () => {
      expect(canonicalJson(LINK_0)).toBe(CANONICAL_0);
      expect(chainHash(LINK_0)).toBe(HASH_0);
    });

    it('chains revision 1 to the hash of revision 0', () => {
      expect(canonicalJson(LINK_1)).toBe(CANONICAL_1);
      expect(chainHash(LINK_1)).toBe(HASH_1);
    });

    it('ignores members other than the six (e.g. extra metadata on the link object)', () => {
      expect(chainHash({ ...LINK_1, correlationId: 'c-1', position: '7' } as typeof LINK_1)).toBe(HASH_1);
    });

    it('verifies', () => {
      expect(verifyChain(vectorEvents())).toBeNull();
    });

    it('accepts bigint revisions', () => {
      expect(verifyChain(vectorEvents().map((e) => ({ ...e, revision: BigInt(e.revision) })))).toBeNull();
    });
  });

  describe('verifyChain', () => {
    it('accepts an empty list and a valid longer chain', () => {
      expect(verifyChain([])).toBeNull();
      expect(verifyChain(chain(5))).toBeNull();
    });

    it('detects tampered data', () => {
      const events = vectorEvents();
      events[0] = { ...events[0], data: { ...createdData, name: 'Everything' } };
      expect(verifyChain(events)).toEqual({ streamId: STREAM, revision: 0, reason: 'hash_mismatch' });
    });

    it('detects tampered data deep inside a later event', () => {
      const events = chain(4);
      events[2] = { ...events[2], data: { n: 2, nested: { list: [2, 'y'] } } };
      expect(verifyChain(events)).toEqual({ streamId: 'thing-1', revision: 2, reason: 'hash_mismatch' });
    });

    it('detects a tampered type or occurredAt', () => {
      const byType = vectorEvents();
      byType[1] = { ...byType[1], type: 'policy.updated' };
      expect(verifyChain(byType)).toEqual({ streamId: STREAM, revision: 1, reason: 'hash_mismatch' });
      const byTime = vectorEvents();
      byTime[1] = { ...byTime[1], metadata: { ...byTime[1].metadata, occurredAt: '2025-01-03T00:00:00.000Z' } };
      expect(verifyChain(byTime)).toEqual({ streamId: STREAM, revision: 1, reason: 'hash_mismatch' });
    });

    it('detects a wrong prevHash', () => {
      const events = vectorEvents();
      events[1] = { ...events[1], metadata: { ...events[1].metadata, prevHash: 'f'.repeat(64) } };
      expect(verifyChain(events)).toEqual({ streamId: STREAM, revision: 1, reason: 'prev_hash_mismatch' });
    });

    it('detects a first event whose prevHash is not the genesis hash', () => {
      const events = vectorEvents();
      events[0] = { ...events[0], metadata: { ...events[0].metadata, prevHash: HASH_1 } };
      expect(verifyChain(events)).toEqual({ streamId: STREAM, revision: 0, reason: 'prev_hash_mismatch' });
    });

    it('detects an event whose stored hash was replaced (its successor no longer links)', () => {
      const events = chain(3);
      events[1] = { ...events[1], metadata: { ...events[1].metadata, hash: 'a'.repeat(64) } };
      expect(verifyChain(events)).toEqual({ streamId: 'thing-1', revision: 1, reason: 'hash_mismatch' });
    });

    it('detects a revision gap (a removed event)', () => {
      const events = chain(4);
      expect(verifyChain([events[0], events[1], events[3]])).toEqual({ streamId: 'thing-1', revision: 3, reason: 'revision_gap' });
    });

    it('detects events out of revision order', () => {
      const events = chain(3);
      expect(verifyChain([events[0], events[2], events[1]])).toEqual({ streamId: 'thing-1', revision: 2, reason: 'revision_gap' });
    });

    it('detects a removed event even when the remaining revisions were renumbered', () => {
      const events = chain(3);
      const renumbered = { ...events[2], revision: 1 };
      expect(verifyChain([events[0], renumbered])).toEqual({ streamId: 'thing-1', revision: 1, reason: 'prev_hash_mismatch' });
    });

    describe('partial streams (an export with since/fromPosition)', () => {
      it('verifies a stream from its first exported event on', () => {
        const events = chain(6);
        expect(verifyChain(events.slice(3))).toBeNull();
        expect(verifyChain(events.slice(5))).toBeNull();
      });

      it('still detects tampering after the first exported event', () => {
        const events = chain(6).slice(2);
        events[2] = { ...events[2], data: { n: 999, nested: { list: [] } } };
        expect(verifyChain(events)).toEqual({ streamId: 'thing-1', revision: 4, reason: 'hash_mismatch' });
      });

      it('detects tampering of the first exported event itself', () => {
        const events = chain(6).slice(3);
        events[0] = { ...events[0], data: { n: 0, nested: { list: [] } } };
        expect(verifyChain(events)).toEqual({ streamId: 'thing-1', revision: 3, reason: 'hash_mismatch' });
      });

      it('detects a gap inside a partial stream', () => {
        const events = chain(6);
        expect(verifyChain([events[2], events[3], events[5]])).toEqual({ streamId: 'thing-1', revision: 5, reason: 'revision_gap' });
      });
    });
  });
});
