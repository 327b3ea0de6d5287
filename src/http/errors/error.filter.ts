import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { requestPath } from '../shared/request-state';
import { toErrorReply } from './error-response';

/** The one exception filter (ARCHITECTURE §6): every error leaves as the envelope of §0.8. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const response = http.getResponse<FastifyReply>();
    const result = toErrorReply(error, { method: request.method, path: requestPath(request) });
    if (result.unexpected) {
      this.logger.error({
        msg: 'Unexpected failure',
        correlationId: request.peaqos?.correlationId,
        error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
      });
    }
    response.status(result.status).headers(result.headers).send(result.body);
  }
}
