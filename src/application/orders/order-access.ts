import { Injectable } from '@nestjs/common';
import { MarketOrderRecord } from '../../domain/order/market-order-types';
import { agentPairingDecider, AgentPairingState, agentPairingStream, pairingInactive } from '../../domain/pairing/agent-pairing.decider';
import { checkSessionBinding, SessionClaims } from '../../domain/pairing/session-auth';
import { withPairingStore } from '../pairings/pairing-unavailable';
import { AggregateStreams } from '../shared/aggregate-streams';

/**
 * §7.5 for order-scoped agent endpoints: a token is bound to the order's machine and pairing (§1.2
 * step 9); without one, the order's pairing must be `active` (§1.3).
 */
@Injectable()
export class OrderAgentAccess {
  constructor(private readonly streams: AggregateStreams) {}

  /**
   * Returns the order's pairing when the check loaded it (no token), so the caller need not load it
   * again; null when a token was checked.
   */
  async check(order: MarketOrderRecord, session: SessionClaims | null): Promise<AgentPairingState | null> {
    if (session) {
      checkSessionBinding(session, { machineId: order.machineId, pairingId: order.agentPairingId });
      return null;
    }
    const { state } = await withPairingStore(() =>
      this.streams.load(agentPairingStream(order.agentPairingId, order.machineId).streamId, agentPairingDecider),
    );
    const status = state.kind === 'live' ? state.pairing.status : 'revoked';
    if (status !== 'active') throw pairingInactive(order.agentPairingId, status);
    return state;
  }
}
