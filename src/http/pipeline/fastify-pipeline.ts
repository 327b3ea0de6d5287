import { LoggerService } from '@nestjs/common';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppConfig } from '../../config/app-config';
import { validationError } from '../../domain/shared/domain-error';
import { reply as errorReply } from '../errors/error-response';
import { initialRequestState, requestPath } from '../shared/request-state';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The parts of §0.14 that run before Nest routes a request: correlation id (§0.13), API key (step 2,
 * before route matching for /api/v1 paths, §1.1), and body parsing (step 3, §0.2). Registered on the
 * Fastify instance so they also run for unknown routes.
 */
export function installFastifyPipeline(fastify: FastifyInstance, config: AppConfig, logger: LoggerService): void {
  const keyDigests = config.apiKeys.map((k) => createHash('sha256').update(k, 'utf8').digest());

  fastify.decorateRequest('peaqos', null as never);

  fastify.addHook('onRequest', (request, reply, done) => {
    const presented = request.headers['x-correlation-id'];
    const valid = typeof presented === 'string' && CORRELATION_ID.test(presented);
    const correlationId = valid ? presented : randomUUID();
    request.peaqos = initialRequestState(correlationId, presented !== undefined && !valid);
    reply.header('x-correlation-id', correlationId);

    if (!config.requireApiAuth || !isApiPath(request.url)) return done();
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string' || key.length === 0) {
      return sendError(reply, 'AUTH_REQUIRED', 'An x-api-key header is required');
    }
    const digest = createHash('sha256').update(key, 'utf8').digest();
    // Constant time: every configured key is compared, with no early exit (§1.1).
    let match = false;
    for (const candidate of keyDigests) match = timingSafeEqual(candidate, digest) || match;
    if (!match) return sendError(reply, 'AUTH_INVALID', 'The x-api-key header does not match a configured key');
    const hex = digest.toString('hex');
    request.peaqos.apiKeyHash = hex;
    request.peaqos.actor = { type: 'api-key', id: `sha256:${hex.slice(0, 16)}` };
    done();
  });

  // §0.14 step 1: an unknown route is a 404 whatever its body, so its body is not even read.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (!request.is404) return done(null, payload);
    payload.resume();
    request.headers['content-length'] = '0';
    done(null, Readable.from([]));
  });

  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (request.is404) return done(null, undefined);
    try {
      done(null, parseJsonBody(request.headers['content-type'], body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // Any other content type: §0.2 says 400 VALIDATION_ERROR (Fastify would answer 415).
  fastify.addContentTypeParser('*', (request, payload, done) => {
    payload.resume();
    if (request.is404) return done(null, undefined);
    done(
      validationError(
        [{ location: 'header', path: 'content-type', message: 'Request bodies must be sent with Content-Type: application/json' }],
        'unsupported_content_type',
      ) as unknown as Error,
      undefined,
    );
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const state = request.peaqos;
    const durationMs = state ? Number(process.hrtime.bigint() - state.startedAt) / 1e6 : undefined;
    logger.log(
      {
        msg: 'request',
        method: request.method,
        path: requestPath(request),
        status: reply.statusCode,
        durationMs: durationMs === undefined ? undefined : Math.round(durationMs * 100) / 100,
        correlationId: state?.correlationId,
      },
      'HTTP',
    );
    done();
  });
}

/**
 * Fastify's own request errors (a URL that does not decode) answered in the envelope of §0.8. Passed
 * to the Fastify constructor as `frameworkErrors`; runs before any hook.
 */
export function frameworkErrorHandler(error: Error, _request: unknown, reply: FastifyReply): void {
  const r = errorReply('VALIDATION_ERROR', 'The request URL is malformed', {
    reason: 'malformed_url',
    errors: [{ location: 'path', path: '', message: error.message }],
  });
  void reply.status(r.status).header('x-correlation-id', randomUUID()).headers(r.headers).send(r.body);
}

function isApiPath(url: string): boolean {
  return url === '/api/v1' || url.startsWith('/api/v1/') || url.startsWith('/api/v1?');
}

function sendError(reply: FastifyReply, code: 'AUTH_REQUIRED' | 'AUTH_INVALID', message: string): void {
  const r = errorReply(code, message);
  void reply.status(r.status).headers(r.headers).send(r.body);
}

/** §0.2: a JSON object, UTF-8 only; an empty body counts as absent. */
export function parseJsonBody(contentType: string | undefined, raw: string): unknown {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
  if (charset && charset.toLowerCase() !== 'utf-8') {
    throw validationError([{ location: 'header', path: 'content-type', message: `Charset ${charset} is not supported; use utf-8` }], 'unsupported_charset');
  }
  if (raw.trim() === '') return undefined;
  let parsed: unknown;
  let prototypeKey = false;
  try {
    parsed = JSON.parse(raw, (key, value: unknown) => {
      if (key === '__proto__') prototypeKey = true;
      return value;
    });
  } catch {
    throw validationError([{ location: 'body', path: '', message: 'The request body is not valid JSON' }], 'invalid_json');
  }
  if (prototypeKey) {
    throw validationError([{ location: 'body', path: '', message: 'Members named "__proto__" are not accepted' }], 'forbidden_member');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw validationError([{ location: 'body', path: '', message: 'The request body must be a JSON object' }], 'not_an_object');
  }
  return parsed;
}

