import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { commandContextOf } from './request-state';

/** The CommandContext (correlation id, actor) of the current request. */
export const RequestContext = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  commandContextOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
