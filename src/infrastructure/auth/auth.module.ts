import { Global, Module } from '@nestjs/common';
import { PairingSessions } from '../../application/pairings/pairing-sessions';
import { CLOCK, Clock } from '../../application/ports/clock.port';
import { SESSION_TOKENS } from '../../application/ports/session-tokens.port';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AgentPairingTokenGuard } from '../../http/auth/agent-pairing-token.guard';
import { JoseSessionTokens } from './session-tokens.jose';

/**
 * Agent credentials (§1.2): HS256 session tokens keyed with the session secret, and the guard of the
 * agent endpoints. Global, because every feature with agent endpoints (search, orders) uses the guard.
 */
@Global()
@Module({
  providers: [
    {
      provide: SESSION_TOKENS,
      inject: [APP_CONFIG, CLOCK],
      useFactory: (config: AppConfig, clock: Clock) =>
        new JoseSessionTokens({ secret: config.sessionSecret, ttlMs: config.agentPairingSessionTtlMs }, clock),
    },
    PairingSessions,
    AgentPairingTokenGuard,
  ],
  exports: [SESSION_TOKENS, PairingSessions, AgentPairingTokenGuard],
})
export class AuthModule {}
