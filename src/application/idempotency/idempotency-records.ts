import { Inject, Injectable } from '@nestjs/common';
import { ANONYMOUS_ACTOR } from '../../domain/shared/actor';
import { sha256Hex } from '../../domain/shared/canonical-json';
import { DomainError } from '../../domain/shared/domain-error';
import { CLOCK, Clock } from '../ports/clock.port';
import { EVENT_STORE, EventStore, StoredEvent, WrongExpectedRevisionError } from '../ports/event-store.port';
import { IDS, Ids } from '../ports/ids.port';
import { withStore } from '../shared/store-unavailable';

/** §0.11: completed responses are kept for 24 hours. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/**
 * A request that holds a key for longer than this is presumed dead (its process crashed) and the key
 * can be taken over. Longer than any request can legitimately run (execute: 5 min per attempt).
 */
export const IDEMPOTENCY_LEASE_MS = 15 * 60 * 1000;

export type IdempotencyScope = { method: string; path: string; apiKeyHash: string; pairingId: string; key: string };
export type StoredResponse = { status: number; body: unknown };

type KeyState =
  | { kind: 'free' }
  | { kind: 'in_flight'; fingerprint: string; leaseUntil: string }
  | { kind: 'completed'; fingerprint: string; response: StoredResponse; expiresAt: string };

export type Claim = { kind: 'run'; streamId: string; revision: number } | { kind: 'replay'; response: StoredResponse };

/**
 * Idempotency-Key records (§0.11), kept in internal reservation streams `_idempotency-<sha256>` of the
 * event store so they hold across instances: claiming a key is an append with the expected revision,
 * which exactly one racing request wins.
 */
@Injectable()
export class IdempotencyRecords {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDS) private readonly ids: Ids,
  ) {}

  async claim(scope: IdempotencyScope, fingerprint: string, correlationId: string): Promise<Claim> {
    const streamId = `_idempotency-${sha256Hex(JSON.stringify([scope.method, scope.path, scope.apiKeyHash, scope.pairingId, scope.key]))}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const events = await withStore(() => this.store.readStream(streamId));
      const state = foldKeyState(events);
      const now = this.clock.now();
      const nowIso = now.toISOString();
      if (state.kind === 'completed' && nowIso < state.expiresAt) {
        if (state.fingerprint !== fingerprint) throw reused(scope.key);
        return { kind: 'replay', response: state.response };
      }
      if (state.kind === 'in_flight' && nowIso < state.leaseUntil) {
        if (state.fingerprint !== fingerprint) throw reused(scope.key);
        throw new DomainError('IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed', {
          idempotencyKey: scope.key,
        });
      }
      const revision = events.length - 1;
      try {
        await this.append(streamId, revision, 'idempotency.claimed', correlationId, {
          fingerprint,
          leaseUntil: new Date(now.getTime() + IDEMPOTENCY_LEASE_MS).toISOString(),
        });
        return { kind: 'run', streamId, revision: revision + 1 };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
      }
    }
    throw new DomainError('IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed', {
      idempotencyKey: scope.key,
    });
  }

  /** Stores a response below 500 (one-time secrets already removed by the caller). */
  async complete(
    claim: Extract<Claim, { kind: 'run' }>,
    fingerprint: string,
    response: StoredResponse,
    correlationId: string,
  ): Promise<void> {
    const expiresAt = new Date(this.clock.now().getTime() + IDEMPOTENCY_RETENTION_MS).toISOString();
    await this.append(claim.streamId, claim.revision, 'idempotency.completed', correlationId, { fingerprint, response, expiresAt });
  }

  /** A 5xx response is not stored: the key is released and a retry runs again. */
  async release(claim: Extract<Claim, { kind: 'run' }>, correlationId: string): Promise<void> {
    await this.append(claim.streamId, claim.revision, 'idempotency.released', correlationId, {});
  }

  private async append(streamId: string, revision: number, type: string, correlationId: string, data: Record<string, unknown>) {
    await withStore(() =>
      this.store.append(
        streamId,
        [
          {
            id: this.ids.next('evt'),
            type,
            data,
            metadata: {
              correlationId,
              causationId: null,
              actor: ANONYMOUS_ACTOR,
              occurredAt: this.clock.now().toISOString(),
              schemaVersion: 1,
            },
          },
        ],
        revision === -1 ? 'no_stream' : revision,
      ),
    );
  }
}

function reused(key: string): DomainError {
  return new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request', {
    idempotencyKey: key,
  });
}

function foldKeyState(events: StoredEvent[]): KeyState {
  let state: KeyState = { kind: 'free' };
  for (const e of events) {
    const d = e.data as Record<string, never>;
    if (e.type === 'idempotency.claimed') state = { kind: 'in_flight', fingerprint: d.fingerprint, leaseUntil: d.leaseUntil };
    else if (e.type === 'idempotency.completed')
      state = { kind: 'completed', fingerprint: d.fingerprint, response: d.response, expiresAt: d.expiresAt };
    else if (e.type === 'idempotency.released') state = { kind: 'free' };
  }
  return state;
}
