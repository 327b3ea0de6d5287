import { CallHandler, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { lastValueFrom } from 'rxjs';
import { Claim, IdempotencyRecords } from '../../application/idempotency/idempotency-records';
import { canonicalHash } from '../../domain/shared/canonical-json';
import { toErrorReply } from '../errors/error-response';
import { HttpResult } from '../shared/http-result';
import { requestPath } from '../shared/request-state';

/** §0.11: one-time secrets are never stored in an idempotency record, so replays omit them. */
const ONE_TIME_SECRETS = new Set(['pairingToken', 'agentToken']);

/**
 * Step 6 of §0.14 (run by RequestPipelineInterceptor after request-shape validation, step 5):
 * `Idempotency-Key` on POST and PATCH. The first request runs and its response (status < 500) is
 * recorded; the same key with the same fingerprint replays it with `Idempotency-Replayed: true`; with
 * another fingerprint → 422; while running → 409.
 */
export class Idempotency {
  private readonly logger = new Logger('Idempotency');

  constructor(private readonly records: IdempotencyRecords) {}

  /** The request's Idempotency-Key when it takes part in idempotency (POST and PATCH), else undefined. */
  keyOf(request: FastifyRequest): string | undefined {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || (request.method !== 'POST' && request.method !== 'PATCH')) return undefined;
    return key;
  }

  /**
   * Runs the handler (`next`) under `key`, or replays the recorded response as an HttpResult. Resolves
   * with what the handler returned (an HttpResult or a plain body), rejects with what it threw.
   */
  async run(request: FastifyRequest, reply: FastifyReply, key: string, next: CallHandler): Promise<unknown> {
    const state = request.peaqos;
    const fingerprint = canonicalHash(state.fingerprintInput ?? { query: {}, body: request.body ?? null });
    const scope = { method: request.method, path: requestPath(request), apiKeyHash: state.apiKeyHash, pairingId: state.pairingId, key };
    const claim = await this.records.claim(scope, fingerprint, state.correlationId);
    if (claim.kind === 'replay') {
      reply.header('Idempotency-Replayed', 'true');
      return new HttpResult(claim.response.status, claim.response.body);
    }
    try {
      const result = await lastValueFrom(next.handle(), { defaultValue: undefined });
      const status = result instanceof HttpResult ? result.status : reply.statusCode;
      const body = result instanceof HttpResult ? result.body : result;
      await this.store(claim, fingerprint, status, body, state.correlationId);
      return result;
    } catch (error) {
      const mapped = toErrorReply(error, { method: request.method, path: scope.path });
      await this.store(claim, fingerprint, mapped.status, mapped.body, state.correlationId);
      throw error;
    }
  }

  private async store(claim: Extract<Claim, { kind: 'run' }>, fingerprint: string, status: number, body: unknown, correlationId: string) {
    try {
      if (status >= 500) await this.records.release(claim, correlationId);
      else await this.records.complete(claim, fingerprint, { status, body: withoutOneTimeSecrets(body ?? null) }, correlationId);
    } catch (error) {
      // The response stands; the key stays claimed until its lease runs out and is then free again.
      this.logger.warn({ msg: 'Could not record the idempotent response', correlationId, error: (error as Error).message });
    }
  }
}

function withoutOneTimeSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutOneTimeSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([k]) => !ONE_TIME_SECRETS.has(k))
      .map(([k, v]) => [k, withoutOneTimeSecrets(v)]),
  );
}
