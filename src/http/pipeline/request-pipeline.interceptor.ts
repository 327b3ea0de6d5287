import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { from, map, Observable } from 'rxjs';
import { IdempotencyRecords } from '../../application/idempotency/idempotency-records';
import { Idempotency } from '../idempotency/idempotency';
import { HttpResult } from '../shared/http-result';
import { RequestShapeValidator } from '../validation/request-shape';

/**
 * The Nest part of the §0.14 pipeline, as the one global interceptor (each Nest interceptor costs an
 * `AsyncResource.bind` and rxjs plumbing per request). It runs after the guards (agent credentials,
 * step 4); what it throws goes to the ErrorFilter. In order:
 *
 * 1. request-shape validation (step 5, RequestShapeValidator);
 * 2. idempotency (step 6, Idempotency) when a POST or PATCH carries an `Idempotency-Key`;
 * 3. an HttpResult's status is applied to the reply and its body answered; plain return values keep the
 *    route's declared status. This wraps idempotency, so that replayed HttpResults get their status too.
 */
@Injectable()
export class RequestPipelineInterceptor implements NestInterceptor {
  private readonly shape = new RequestShapeValidator();
  private readonly idempotency: Idempotency;

  constructor(records: IdempotencyRecords) {
    this.idempotency = new Idempotency(records);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    this.shape.apply(context, request);
    const key = this.idempotency.keyOf(request);
    if (key === undefined) return next.handle().pipe(map((result) => withStatus(reply, result)));
    return from(this.idempotency.run(request, reply, key, next).then((result) => withStatus(reply, result)));
  }
}

/** Applies an HttpResult's status and answers its body; any other value is the body as it is. */
function withStatus(reply: FastifyReply, result: unknown): unknown {
  if (!(result instanceof HttpResult)) return result;
  reply.status(result.status);
  return result.body;
}
