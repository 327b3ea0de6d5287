import { ControllableClock } from '../../../test/support/controllable-clock';
import { DomainError } from '../../domain/shared/domain-error';
import { SqliteEventStore } from '../../infrastructure/event-store/sqlite/sqlite-event-store';
import { UlidIds } from '../../infrastructure/ids/ulid-ids';
import { Claim, IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_RETENTION_MS, IdempotencyRecords, IdempotencyScope } from './idempotency-records';

type RunClaim = Extract<Claim, { kind: 'run' }>;

const scope: IdempotencyScope = {
  method: 'POST',
  path: '/api/v1/market/orders',
  apiKeyHash: 'a'.repeat(64),
  pairingId: 'pair_1',
  key: 'key-1',
};
const FP = 'f'.repeat(64);
const OTHER_FP = 'e'.repeat(64);
const response = { status: 201, body: { data: { id: 'ord_1' } } };

function asRun(claim: Claim): RunClaim {
  if (claim.kind !== 'run') throw new Error(`expected a run claim, got ${JSON.stringify(claim)}`);
  return claim;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error.code;
}

describe('IdempotencyRecords (§0.11)', () => {
  let store: SqliteEventStore;
  let clock: ControllableClock;
  let records: IdempotencyRecords;

  beforeEach(() => {
    store = new SqliteEventStore({ path: ':memory:' });
    clock = new ControllableClock('2026-01-01T00:00:00.000Z');
    records = new IdempotencyRecords(store, clock, new UlidIds());
  });

  afterEach(() => store.close());

  it('keeps the retention at 24 hours and the lease at 15 minutes', () => {
    expect(IDEMPOTENCY_RETENTION_MS).toBe(24 * 60 * 60 * 1000);
    expect(IDEMPOTENCY_LEASE_MS).toBe(15 * 60 * 1000);
  });

  it('lets the first use run, in an internal _idempotency-<sha256> stream', async () => {
    const claim = asRun(await records.claim(scope, FP, 'corr-1'));
    expect(claim.streamId).toMatch(/^_idempotency-[0-9a-f]{64}$/);
    expect(claim.revision).toBe(0);
    const [event] = await store.readStream(claim.streamId);
    expect(event).toMatchObject({ type: 'idempotency.claimed', data: { fingerprint: FP }, metadata: { correlationId: 'corr-1' } });
  });

  it('replays the completed response for the same key and fingerprint', async () => {
    const claim = asRun(await records.claim(scope, FP, 'corr-1'));
    await records.complete(claim, FP, response, 'corr-1');
    await expect(records.claim(scope, FP, 'corr-2')).resolves.toEqual({ kind: 'replay', response });
    await expect(records.claim(scope, FP, 'corr-3')).resolves.toEqual({ kind: 'replay', response });
  });

  it('refuses another fingerprint after completion with IDEMPOTENCY_KEY_REUSED', async () => {
    await records.complete(asRun(await records.claim(scope, FP, 'corr-1')), FP, response, 'corr-1');
    const error = await records.claim(scope, OTHER_FP, 'corr-2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', details: { idempotencyKey: 'key-1' } });
  });

  it('answers IDEMPOTENCY_IN_FLIGHT for the same fingerprint while the first request runs', async () => {
    await records.claim(scope, FP, 'corr-1');
    const error = await records.claim(scope, FP, 'corr-2').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'IDEMPOTENCY_IN_FLIGHT', details: { idempotencyKey: 'key-1' } });
  });

  it('refuses another fingerprint while in flight with IDEMPOTENCY_KEY_REUSED', async () => {
    await records.claim(scope, FP, 'corr-1');
    expect(await codeOf(records.claim(scope, OTHER_FP, 'corr-2'))).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('frees the key on release (a 5xx is not stored): the retry runs again', async () => {
    const first = asRun(await records.claim(scope, FP, 'corr-1'));
    await records.release(first, 'corr-1');
    const second = asRun(await records.claim(scope, FP, 'corr-2'));
    expect(second.revision).toBe(2);
    // Released keys are free for any request, even with another fingerprint.
    await records.release(second, 'corr-2');
    await expect(records.claim(scope, OTHER_FP, 'corr-3')).resolves.toMatchObject({ kind: 'run' });
  });

  it('treats another scope (method, path, API key, pairing) as another key', async () => {
    await records.claim(scope, FP, 'corr-1');
    for (const other of [
      { ...scope, method: 'PATCH' },
      { ...scope, path: '/api/v1/market/orders/ord_1/execute' },
      { ...scope, apiKeyHash: '' },
      { ...scope, pairingId: '' },
      { ...scope, key: 'key-2' },
    ]) {
      await expect(records.claim(other, OTHER_FP, 'corr-x')).resolves.toMatchObject({ kind: 'run' });
    }
  });

  describe('expiry (24 h)', () => {
    it('replays until 24 h after completion, then frees the key', async () => {
      await records.complete(asRun(await records.claim(scope, FP, 'corr-1')), FP, response, 'corr-1');
      clock.advance(IDEMPOTENCY_RETENTION_MS - 1);
      await expect(records.claim(scope, FP, 'corr-2')).resolves.toEqual({ kind: 'replay', response });
      expect(await codeOf(records.claim(scope, OTHER_FP, 'corr-2'))).toBe('IDEMPOTENCY_KEY_REUSED');

      clock.advance(1);
      await expect(records.claim(scope, OTHER_FP, 'corr-3')).resolves.toMatchObject({ kind: 'run' });
    });

    it('counts the 24 h from completion, not from the claim', async () => {
      const claim = asRun(await records.claim(scope, FP, 'corr-1'));
      clock.advance(10 * 60 * 1000);
      await records.complete(claim, FP, response, 'corr-1');
      clock.advance(IDEMPOTENCY_RETENTION_MS - 1);
      await expect(records.claim(scope, FP, 'corr-2')).resolves.toMatchObject({ kind: 'replay' });
    });
  });

  describe('lease (15 min)', () => {
    it('keeps the key in flight for 15 minutes, then lets another request take it over', async () => {
      const stale = asRun(await records.claim(scope, FP, 'corr-1'));
      clock.advance(IDEMPOTENCY_LEASE_MS - 1);
      expect(await codeOf(records.claim(scope, FP, 'corr-2'))).toBe('IDEMPOTENCY_IN_FLIGHT');

      clock.advance(1);
      const takeover = asRun(await records.claim(scope, FP, 'corr-3'));
      expect(takeover.revision).toBe(stale.revision + 1);

      // The presumed-dead holder can no longer record its response over the new holder's claim.
      await expect(records.complete(stale, FP, { status: 200, body: 'stale' }, 'corr-1')).rejects.toThrow();
      await records.complete(takeover, FP, response, 'corr-3');
      await expect(records.claim(scope, FP, 'corr-4')).resolves.toEqual({ kind: 'replay', response });
    });
  });

  describe('races', () => {
    it('lets exactly one of two concurrent claims run; the other sees it in flight', async () => {
      const outcomes = await Promise.allSettled([records.claim(scope, FP, 'corr-1'), records.claim(scope, FP, 'corr-2')]);
      const runs = outcomes.filter((o) => o.status === 'fulfilled' && o.value.kind === 'run');
      const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(runs).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      expect(rejected[0].reason).toMatchObject({ code: 'IDEMPOTENCY_IN_FLIGHT' });
    });

    it('lets exactly one of ten concurrent claims run, with mixed fingerprints', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => records.claim(scope, i % 2 ? FP : OTHER_FP, `corr-${i}`)),
      );
      const runs = outcomes.filter((o) => o.status === 'fulfilled' && o.value.kind === 'run');
      expect(runs).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(['IDEMPOTENCY_IN_FLIGHT', 'IDEMPOTENCY_KEY_REUSED']).toContain((o.reason as DomainError).code);
      }
    });
  });

  it('maps an unavailable store to SERVICE_UNAVAILABLE', async () => {
    await store.close();
    expect(await codeOf(records.claim(scope, FP, 'corr-1'))).toBe('SERVICE_UNAVAILABLE');
  });
});
