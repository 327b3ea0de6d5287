import { Inject, Injectable } from '@nestjs/common';
import { AgentPairing, agentPairingDecider, agentPairingStream, IssuedSession } from '../../domain/pairing/agent-pairing.decider';
import { checkSessionAgainstPairing, sessionTokenError } from '../../domain/pairing/session-auth';
import { SESSION_TOKENS, SessionClaims, SessionSubject, SessionTokens } from '../ports/session-tokens.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { withPairingStore } from './pairing-unavailable';

export type AuthenticatedPairing = { claims: SessionClaims; pairing: AgentPairing };

/**
 * Pairing session tokens: signing new sessions (§5.5) and checking presented tokens (§1.2 steps 2–8).
 * Checks fold the pairing's own stream, never a per-instance read model, so a revocation, pause,
 * rotation or policy change written by any instance takes effect on the very next request.
 */
@Injectable()
export class PairingSessions {
  constructor(
    private readonly streams: AggregateStreams,
    @Inject(SESSION_TOKENS) private readonly tokens: SessionTokens,
  ) {}

  /** Signs a new session; the token is a one-time secret and is only returned, never stored (§9). */
  async issue(subject: Omit<SessionSubject, 'sessionId'> & { sessionId: string }): Promise<{ token: string; session: IssuedSession }> {
    const { token, claims } = await this.tokens.issue(subject);
    return {
      token,
      session: {
        sessionId: claims.sessionId,
        jti: claims.jti,
        iat: claims.iat,
        exp: claims.exp,
        tokenLastFour: token.slice(-4),
        delegationPolicyHash: claims.delegationPolicyHash,
      },
    };
  }

  /** §1.2 steps 2–8 for a presented, non-empty token. */
  async authenticate(token: string): Promise<AuthenticatedPairing> {
    const verified = await this.tokens.verify(token);
    if (!verified.ok) throw sessionTokenError(verified);
    const { claims } = verified;
    const { state } = await withPairingStore(() =>
      this.streams.load(agentPairingStream(claims.pairingId, claims.machineId).streamId, agentPairingDecider),
    );
    return { claims, pairing: checkSessionAgainstPairing(state, claims) };
  }
}
