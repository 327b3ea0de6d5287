import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, UseGuards } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { PairingSessions } from '../../application/pairings/pairing-sessions';
import { agentAuthInvalid, agentAuthRequired } from '../../domain/pairing/session-auth';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

export const PAIRING_TOKEN_HEADER = 'x-agent-pairing-token';

/**
 * §1.2 steps 1–8 for an agent endpoint (§0.14 step 4: before body validation). A valid token makes the
 * pairing the request's actor and leaves its claims on the request for step 9, which the endpoint runs
 * against the machine (and pairing) it acts on.
 */
@Injectable()
export class AgentPairingTokenGuard implements CanActivate {
  constructor(
    private readonly sessions: PairingSessions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers[PAIRING_TOKEN_HEADER];
    // Step 1.
    if (header === undefined || header === '') {
      if (this.config.requireAgentPairingAuth) throw agentAuthRequired();
      return true;
    }
    // A repeated header is not one compact JWS.
    if (typeof header !== 'string') throw agentAuthInvalid('malformed');
    const { claims, pairing } = await this.sessions.authenticate(header);
    request.peaqos.agentSession = claims;
    request.peaqos.pairingId = pairing.id;
    request.peaqos.actor = { type: 'agent-pairing', id: pairing.id };
    return true;
  }
}

/** Marks an agent endpoint (§1.2 "Where it is used"). */
export function AgentEndpoint(): MethodDecorator & ClassDecorator {
  return applyDecorators(UseGuards(AgentPairingTokenGuard));
}
