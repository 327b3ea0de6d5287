import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { map, Observable } from 'rxjs';
import { HttpResult } from './http-result';

/** Applies an HttpResult's status; plain return values keep the route's declared status. */
@Injectable()
export class ResponseStatusInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(
      map((result) => {
        if (!(result instanceof HttpResult)) return result;
        reply.status(result.status);
        return result.body;
      }),
    );
  }
}
