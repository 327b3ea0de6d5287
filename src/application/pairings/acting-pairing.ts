import { Inject, Injectable } from '@nestjs/common';
import { agentPairingDecider, AgentPairingState, agentPairingStream, pairingInactive } from '../../domain/pairing/agent-pairing.decider';
import { checkSessionBinding, SessionClaims } from '../../domain/pairing/session-auth';
import { DomainError, notFound, validationError } from '../../domain/shared/domain-error';
import { PAIRINGS_READ_MODEL, PairingsReadModel } from '../ports/pairings-read-model.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { withPairingStore } from './pairing-unavailable';

export type LivePairing = Extract<AgentPairingState, { kind: 'live' }>;

/**
 * §1.3 the acting pairing of an agent endpoint that names a machine in its body (search, order
 * creation), with §1.2 step 9 when a token was presented. The pairing is folded from its stream: its
 * policy and its spend of the day are current.
 */
@Injectable()
export class ActingPairings {
  constructor(
    private readonly streams: AggregateStreams,
    @Inject(PAIRINGS_READ_MODEL) private readonly pairings: PairingsReadModel,
  ) {}

  /**
   * §0.14 step 7 for a body `agentPairingId`: it must name a pairing (of any machine). Returns it, so
   * `resolve` can be given it rather than load it again.
   */
  async assertExists(pairingId: string): Promise<LivePairing> {
    const state = await this.load(pairingId);
    if (state.kind === 'none') throw notFound('agent-pairing', pairingId);
    return state;
  }

  /** `named`: the pairing `assertExists` returned for the body's `agentPairingId` in this request, reused. */
  async resolve(target: {
    machineId: string;
    agentPairingId?: string;
    session: SessionClaims | null;
    named?: LivePairing;
  }): Promise<LivePairing> {
    const { machineId, agentPairingId, session, named } = target;
    const load = (pairingId: string) => (named?.pairing.id === pairingId ? Promise.resolve(named) : this.load(pairingId));
    if (session) {
      checkSessionBinding(session, { machineId, pairingId: agentPairingId });
      const state = await load(session.pairingId);
      if (state.kind !== 'live') throw notFound('agent-pairing', session.pairingId);
      return state;
    }
    if (agentPairingId !== undefined) {
      const state = await load(agentPairingId);
      if (state.kind !== 'live' || state.pairing.machineId !== machineId) throw notFound('agent-pairing', agentPairingId);
      if (state.pairing.status !== 'active') throw pairingInactive(state.pairing.id, state.pairing.status);
      return state;
    }
    const active = this.pairings.notRevokedOf(machineId).filter((p) => p.status === 'active');
    if (active.length === 0) {
      throw new DomainError('AGENT_PAIRING_REQUIRED', `machine ${machineId} has no active agent pairing`, { machineId });
    }
    if (active.length > 1) {
      throw validationError(
        [{ location: 'body', path: '/agentPairingId', message: 'The machine has several active pairings: name one with agentPairingId' }],
        'agent_pairing_ambiguous',
      );
    }
    const state = await this.load(active[0].id);
    if (state.kind !== 'live') throw notFound('agent-pairing', active[0].id);
    if (state.pairing.status !== 'active') throw pairingInactive(state.pairing.id, state.pairing.status);
    return state;
  }

  private async load(pairingId: string): Promise<AgentPairingState> {
    // The stream name carries no machine; the machine id only labels audit records.
    const { state } = await withPairingStore(() => this.streams.load(agentPairingStream(pairingId, '').streamId, agentPairingDecider));
    return state;
  }
}
