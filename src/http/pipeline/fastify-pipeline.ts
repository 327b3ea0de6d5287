import { LoggerService } from '@nestjs/common';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppConfig } from '../../config/app-config';
import { validationError } from '../../domain/shared/domain-error';
import { ErrorReply, reply as errorReply } from '../errors/error-response';
import { initialRequestState, requestPath } from '../shared/request-state';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type Admission = { correlationId: string; invalidCorrelationId: boolean; refusal: ErrorReply | null; apiKeyHash: string };

/**
 * The parts of §0.14 that run before Nest routes a request: correlation id (§0.13), API key (step 2,
 * before route matching for /api/v1 paths, §1.1), and body parsing (step 3, §0.2). Registered on the
 * Fastify instance so they also run for unknown routes. `frameworkErrors` goes to the Fastify
 * constructor: it answers URLs that do not decode, after the same admission checks.
 */
export function fastifyPipeline(config: AppConfig, logger: LoggerService) {
  const keyDigests = config.apiKeys.map((k) => createHash('sha256').update(k, 'utf8').digest());

  const admit = (headers: FastifyRequest['headers'], url: string): Admission => {
    const presented = headers['x-correlation-id'];
    const valid = typeof presented === 'string' && CORRELATION_ID.test(presented);
    const admission: Admission = {
      correlationId: valid ? presented : randomUUID(),
      invalidCorrelationId: presented !== undefined && !valid,
      refusal: null,
      apiKeyHash: '',
    };
    if (!config.requireApiAuth || !isApiPath(url)) return admission;
    const key = headers['x-api-key'];
    if (typeof key !== 'string' || key.length === 0) {
      admission.refusal = errorReply('AUTH_REQUIRED', 'An x-api-key header is required');
      return admission;
    }
    const digest = createHash('sha256').update(key, 'utf8').digest();
    // Constant time: every configured key is compared, with no early exit (§1.1).
    let match = false;
    for (const candidate of keyDigests) match = timingSafeEqual(candidate, digest) || match;
    if (match) admission.apiKeyHash = digest.toString('hex');
    else admission.refusal = errorReply('AUTH_INVALID', 'The x-api-key header does not match a configured key');
    return admission;
  };

  const frameworkErrors = (error: Error, request: FastifyRequest, reply: FastifyReply): void => {
    const admission = admit(request.headers, request.url);
    const r =
      admission.refusal ??
      errorReply('VALIDATION_ERROR', 'The request URL is malformed', {
        reason: 'malformed_url',
        errors: [{ location: 'path', path: '', message: error.message }],
      });
    void reply.status(r.status).header('x-correlation-id', admission.correlationId).headers(r.headers).send(r.body);
  };

  return { frameworkErrors, install: (fastify: FastifyInstance) => install(fastify, admit, logger) };
}

function install(fastify: FastifyInstance, admit: (headers: FastifyRequest['headers'], url: string) => Admission, logger: LoggerService) {
  fastify.decorateRequest('peaqos', null as never);

  fastify.addHook('onRequest', (request, reply, done) => {
    const admission = admit(request.headers, request.url);
    request.peaqos = initialRequestState(admission.correlationId, admission.invalidCorrelationId);
    reply.header('x-correlation-id', admission.correlationId);
    if (admission.refusal) return void send(reply, admission.refusal);
    if (admission.apiKeyHash) {
      request.peaqos.apiKeyHash = admission.apiKeyHash;
      request.peaqos.actor = { type: 'api-key', id: `sha256:${admission.apiKeyHash.slice(0, 16)}` };
    }
    // §0.1: `/machines/` is not `/machines`; the router would hand `/x/` to `/x/:id` with an empty id.
    if (!request.is404 && Object.values(request.params ?? {}).some((v) => v === '')) {
      const path = requestPath(request);
      return void send(reply, errorReply('NOT_FOUND', `No endpoint ${request.method} ${path}`, { method: request.method, path }));
    }
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

function isApiPath(url: string): boolean {
  return url === '/api/v1' || url.startsWith('/api/v1/') || url.startsWith('/api/v1?');
}

function send(reply: FastifyReply, r: ErrorReply): void {
  void reply.status(r.status).headers(r.headers).send(r.body);
}

/** §0.2: a JSON object, UTF-8 only; an empty body counts as absent. */
export function parseJsonBody(contentType: string | undefined, raw: string): unknown {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
  if (charset && charset.toLowerCase() !== 'utf-8') {
    throw validationError(
      [{ location: 'header', path: 'content-type', message: `Charset ${charset} is not supported; use utf-8` }],
      'unsupported_charset',
    );
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
