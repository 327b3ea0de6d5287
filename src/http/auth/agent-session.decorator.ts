import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { SessionClaims } from '../../domain/pairing/session-auth';

/** The verified pairing token's claims on an agent endpoint, `null` when no token was sent (§1.2 step 1). */
export const AgentSession = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): SessionClaims | null => ctx.switchToHttp().getRequest<FastifyRequest>().peaqos.agentSession,
);
