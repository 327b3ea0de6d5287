import { toEip55Address } from '../machine/eip55-address';
import { sha256Hex } from '../shared/canonical-json';
import { toDecimal } from '../shared/decimal';
import { Decider } from '../shared/decider';
import { DomainError, ErrorDetails, notFound, stateConflict } from '../shared/domain-error';
import { isoFromNumericDate, utcDay } from '../shared/time';
import { agentDidOrThrow } from './agent-did';
import {
  assertDelegationLimitsAllow,
  assertDelegationListsAllow,
  changedPolicyMembers,
  DelegationPolicy,
  DelegationPolicyInput,
  delegationPolicyHash,
  mergeDelegationPolicy,
  normaliseDelegationPolicy,
  OrderSpend,
  PolicySubject,
} from './delegation-policy';
import { SpendLedger } from './spend-ledger';
import { allowedPairingTransitions, isAllowedPairingTransition, PAIRING_STATUS_ALLOWS, PairingStatus } from './pairing-status';

export type { PairingStatus } from './pairing-status';

/** §5.1 `verification`: what a verified EIP-191 agent proof leaves behind (never the signature, §9). */
export type PairingVerification = {
  method: 'eip191';
  signerAddress: string;
  verifiedAt: string;
  challengeExpiresAt: string;
};

/** §5.1 `AgentPairing` as the API returns it, without `pairingToken` (a one-time secret, §9). */
export type AgentPairing = {
  id: string;
  machineId: string;
  status: PairingStatus;
  agentAddress: string;
  agentDid: string;
  agentProvider: string;
  agentRole: string;
  description: string | null;
  verification: PairingVerification | null;
  delegationPolicy: DelegationPolicy;
  hasAuthToken: boolean;
  tokenLastFour: string | null;
  sessionId: string | null;
  sessionTokenId: string | null;
  sessionIssuedAt: string | null;
  sessionExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
};

/**
 * A session token the handler has just signed (§5.5) through the SessionTokens port: only what §9
 * lets the pairing keep (ids, NumericDate times, last four characters) and the policy hash it carries.
 */
export type IssuedSession = {
  sessionId: string;
  /** The JWT `jti`, a lower-case UUID v4. */
  jti: string;
  /** NumericDate seconds. */
  iat: number;
  exp: number;
  tokenLastFour: string;
  /** The `delegationPolicyHash` claim; must be the hash of the policy the pairing has when the event is appended. */
  delegationPolicyHash: string;
};

/**
 * An agent proof the handler has already verified (§5.4.3 steps 1–7). The signature is carried only
 * so that its fingerprint can be recorded (§9); it never reaches an event.
 */
export type VerifiedAgentProof = {
  challengeId: string;
  /** The recovered signer (EIP-55). */
  signerAddress: string;
  challengeExpiresAt: string;
  signature: string;
};

/** Non-terminal orders of the pairing (§7.1), oldest first, looked up by the handler. */
export type OpenPairingOrders = {
  orderIds: readonly string[];
  /** Defaults to the list's length. */
  count?: number;
  /** Those of them whose status is `executing` (they block even a forced revocation, §5.8.7). */
  executingOrderIds?: readonly string[];
};

/** A machine policy that denied the order (§7.3 step 2), evaluated by the handler. */
export type MachinePolicyDenial = { policyId: string; reason: string; [key: string]: unknown };

export type SessionIssuedData = {
  sessionId: string;
  sessionTokenId: string;
  sessionIssuedAt: string;
  sessionExpiresAt: string;
  tokenLastFour: string;
  delegationPolicyHash: string;
  /** The session this one supersedes (§5.5), null for the first. */
  previousSessionId: string | null;
  /** Present when the issuance carried a verified proof (§5.8.5 effects). */
  verification?: PairingVerification;
  challengeId?: string;
  /** §9: lower-case SHA-256 hex of the lower-cased signature. */
  signatureFingerprint?: string;
  at: string;
};

export type DescriptionChanges = Partial<Pick<AgentPairing, 'description' | 'agentRole'>>;

export type AgentPairingEvent =
  | { type: 'agent_pairing.created'; data: AgentPairing }
  | { type: 'agent_pairing.session_issued'; data: SessionIssuedData }
  | { type: 'agent_pairing.updated'; data: { changes: DescriptionChanges; at: string } }
  | {
      type: 'agent_pairing.policy_changed';
      data: { changes: Partial<DelegationPolicy>; delegationPolicy: DelegationPolicy; delegationPolicyHash: string; at: string };
    }
  | { type: 'agent_pairing.status_changed'; data: { from: PairingStatus; to: PairingStatus; at: string } }
  | { type: 'agent_pairing.revoked'; data: { from: PairingStatus; to: 'revoked'; force: boolean; at: string } }
  | { type: 'agent_pairing.order_registered'; data: OrderSpend };

export type AgentPairingState =
  | { kind: 'none' }
  | {
      kind: 'live';
      pairing: AgentPairing;
      /** §5.6 hash of `pairing.delegationPolicy`, kept so token checks (§1.2 step 8) need no hashing. */
      delegationPolicyHash: string;
      /** Orders counted against the pairing's spend (§5.7) on the latest day one was registered, in registration order. */
      spend: SpendLedger;
    };

export type CreateAgentPairing = {
  type: 'create';
  id: string;
  machineId: string;
  agentAddress: string;
  /** As requested; derived when absent or null (§5.2). */
  agentDid?: string | null;
  agentProvider: string;
  agentRole: string;
  description?: string | null;
  delegationPolicy?: DelegationPolicyInput;
  /** Absent when verification is `disabled`, or `optional` without a proof (§5.3). */
  verifiedProof?: VerifiedAgentProof;
  session: IssuedSession;
};

export type RotateAgentPairingSession = {
  type: 'rotate_session';
  id: string;
  machineId: string;
  session: IssuedSession;
  verifiedProof?: VerifiedAgentProof;
};

/** §5.8.6 PATCH: every member optional; `description: null` clears. */
export type UpdateAgentPairing = {
  type: 'update';
  id: string;
  machineId: string;
  description?: string | null;
  agentRole?: string;
  delegationPolicy?: DelegationPolicyInput;
  status?: 'active' | 'paused';
};

export type RevokeAgentPairing = {
  type: 'revoke';
  id: string;
  machineId: string;
  force?: boolean;
  openOrders: OpenPairingOrders;
};

/**
 * Counts an order against the pairing (§5.7, §7.3): appended with the pairing's expected revision, so
 * concurrent order creations are serialised and the limits are re-checked on every retry.
 */
export type RegisterAgentPairingOrder = {
  type: 'register_order';
  id: string;
  /** The machine the order is for; another machine's pairing is not found (§1.3). */
  machineId: string;
  orderId: string;
  /** The effective amount (§7.3); null when unknown. */
  amount: number | string | null;
  currency: string | null;
  subject: PolicySubject;
  /** §7.3 step 2, evaluated by the handler (machine policies do not depend on the pairing). */
  machinePolicyDenial?: MachinePolicyDenial;
  /** The pairing's orders that no longer count (cancelled, failed, or payment refunded), from the read model. */
  excludedOrderIds?: readonly string[];
};

export type AgentPairingCommand =
  | CreateAgentPairing
  | RotateAgentPairingSession
  | UpdateAgentPairing
  | { type: 'pause'; id: string; machineId: string }
  | { type: 'resume'; id: string; machineId: string }
  | RevokeAgentPairing
  | RegisterAgentPairingOrder;

/** §5.8.7: `OPEN_MARKET_ORDERS` lists up to 100 order ids. */
const ORDER_IDS_SHOWN = 100;
const ENTITY = 'agent-pairing';

export const agentPairingDecider: Decider<AgentPairingCommand, AgentPairingState, AgentPairingEvent> = {
  initialState: () => ({ kind: 'none' }),

  evolve(state, event) {
    if (event.type === 'agent_pairing.created') {
      return state.kind === 'none'
        ? {
            kind: 'live',
            pairing: event.data,
            delegationPolicyHash: delegationPolicyHash(event.data.delegationPolicy),
            spend: SpendLedger.EMPTY,
          }
        : state;
    }
    if (state.kind !== 'live') return state;
    const pairing = state.pairing;
    switch (event.type) {
      case 'agent_pairing.session_issued': {
        const { sessionId, sessionTokenId, sessionIssuedAt, sessionExpiresAt, tokenLastFour, verification, at } = event.data;
        return {
          ...state,
          pairing: {
            ...pairing,
            hasAuthToken: true,
            tokenLastFour,
            sessionId,
            sessionTokenId,
            sessionIssuedAt,
            sessionExpiresAt,
            verification: verification ?? pairing.verification,
            updatedAt: at,
          },
        };
      }
      case 'agent_pairing.updated':
        return { ...state, pairing: { ...pairing, ...event.data.changes, updatedAt: event.data.at } };
      case 'agent_pairing.policy_changed':
        return {
          ...state,
          pairing: { ...pairing, delegationPolicy: event.data.delegationPolicy, updatedAt: event.data.at },
          delegationPolicyHash: event.data.delegationPolicyHash,
        };
      case 'agent_pairing.status_changed':
        return { ...state, pairing: { ...pairing, status: event.data.to, updatedAt: event.data.at } };
      case 'agent_pairing.revoked':
        return { ...state, pairing: { ...pairing, status: 'revoked', ...NO_SESSION, updatedAt: event.data.at } };
      case 'agent_pairing.order_registered': {
        // Counting an order does not change the pairing as the API shows it (no updatedAt bump). Only
        // the latest day's orders can count again (§5.7 counts the current UTC day), so a newer day
        // starts a new ledger: the state stays small however long the pairing lives.
        return { ...state, spend: state.spend.add(event.data) };
      }
    }
  },

  decide(command, state, { now }) {
    if (command.type === 'create') return create(command, state, now);
    if (state.kind === 'none' || state.pairing.machineId !== command.machineId) throw notFound(ENTITY, command.id);
    switch (command.type) {
      case 'rotate_session':
        return rotate(command, state, now);
      case 'update':
        return update(command, state, now);
      case 'pause':
        return update({ type: 'update', id: command.id, machineId: command.machineId, status: 'paused' }, state, now);
      case 'resume':
        return update({ type: 'update', id: command.id, machineId: command.machineId, status: 'active' }, state, now);
      case 'revoke':
        return revoke(command, state.pairing, now);
      case 'register_order':
        return registerOrder(command, state, now);
    }
  },
};

type LiveState = Extract<AgentPairingState, { kind: 'live' }>;

const NO_SESSION = {
  hasAuthToken: false,
  tokenLastFour: null,
  sessionId: null,
  sessionTokenId: null,
  sessionIssuedAt: null,
  sessionExpiresAt: null,
} as const;

/** §5.8.4 effects; the gate, the proof mode and §5.4.3 ran in the handler. */
function create(command: CreateAgentPairing, state: AgentPairingState, now: string): AgentPairingEvent[] {
  if (state.kind !== 'none') {
    throw new DomainError('STATE_CONFLICT', `agent-pairing ${command.id} already exists`, {
      entityType: ENTITY,
      id: command.id,
      status: state.pairing.status,
      reason: 'exists',
    });
  }
  const agentAddress = toEip55Address(command.agentAddress);
  const agentDid = agentDidOrThrow(agentAddress, command.agentDid);
  if (command.verifiedProof) assertSigner(command.verifiedProof, agentAddress);
  const delegationPolicy = normaliseDelegationPolicy(command.delegationPolicy);
  assertSessionPolicy(command.id, command.session, delegationPolicyHash(delegationPolicy));

  const issued = sessionIssued(command.session, null, command.verifiedProof, now);
  const pairing: AgentPairing = {
    id: command.id,
    machineId: command.machineId,
    status: 'active',
    agentAddress,
    agentDid,
    agentProvider: command.agentProvider,
    agentRole: command.agentRole,
    description: command.description ?? null,
    verification: issued.verification ?? null,
    delegationPolicy,
    hasAuthToken: true,
    tokenLastFour: issued.tokenLastFour,
    sessionId: issued.sessionId,
    sessionTokenId: issued.sessionTokenId,
    sessionIssuedAt: issued.sessionIssuedAt,
    sessionExpiresAt: issued.sessionExpiresAt,
    createdAt: now,
    updatedAt: now,
  };
  // As for machines: the creation event carries the pairing as the API returns it; the first session
  // (with the proof's §9 fingerprint) is recorded like every later one.
  return [
    { type: 'agent_pairing.created', data: pairing },
    { type: 'agent_pairing.session_issued', data: issued },
  ];
}

/** §5.8.5 checks after the gate and effects. */
function rotate(command: RotateAgentPairingSession, state: LiveState, now: string): AgentPairingEvent[] {
  const { pairing } = state;
  if (!PAIRING_STATUS_ALLOWS[pairing.status].sessions) throw inactive(pairing);
  if (command.verifiedProof) assertSigner(command.verifiedProof, pairing.agentAddress);
  assertSessionPolicy(pairing.id, command.session, state.delegationPolicyHash);
  return [{ type: 'agent_pairing.session_issued', data: sessionIssued(command.session, pairing.sessionId, command.verifiedProof, now) }];
}

/** §5.8.6 checks and effects; a PATCH that changes nothing decides nothing. */
function update(command: UpdateAgentPairing, state: LiveState, now: string): AgentPairingEvent[] {
  const { pairing } = state;
  if (!PAIRING_STATUS_ALLOWS[pairing.status].updates) throw stateConflict(ENTITY, pairing.id, pairing.status, 'pairing_revoked');
  const to = command.status !== undefined && command.status !== pairing.status ? command.status : undefined;
  if (to !== undefined && !isAllowedPairingTransition(pairing.status, to, 'patch')) {
    throw stateConflict(ENTITY, pairing.id, pairing.status, 'invalid_transition', allowedPairingTransitions(pairing.status, 'patch'));
  }

  const events: AgentPairingEvent[] = [];
  const changes: DescriptionChanges = {};
  if (command.description !== undefined && command.description !== pairing.description) changes.description = command.description;
  if (command.agentRole !== undefined && command.agentRole !== pairing.agentRole) changes.agentRole = command.agentRole;
  if (Object.keys(changes).length > 0) events.push({ type: 'agent_pairing.updated', data: { changes, at: now } });

  if (command.delegationPolicy !== undefined) {
    const next = mergeDelegationPolicy(pairing.delegationPolicy, command.delegationPolicy);
    const hash = delegationPolicyHash(next);
    // §5.6: an unchanged normalised policy keeps its hash, and with it every token.
    if (hash !== state.delegationPolicyHash) {
      events.push({
        type: 'agent_pairing.policy_changed',
        data: {
          changes: changedPolicyMembers(pairing.delegationPolicy, next),
          delegationPolicy: next,
          delegationPolicyHash: hash,
          at: now,
        },
      });
    }
  }

  if (to !== undefined) events.push({ type: 'agent_pairing.status_changed', data: { from: pairing.status, to, at: now } });
  return events;
}

/** §5.8.7: idempotent; open orders block unless forced, executing ones always. */
function revoke(command: RevokeAgentPairing, pairing: AgentPairing, now: string): AgentPairingEvent[] {
  if (pairing.status === 'revoked') return [];
  if (!isAllowedPairingTransition(pairing.status, 'revoked', 'revoke')) {
    throw stateConflict(ENTITY, pairing.id, pairing.status, 'invalid_transition', allowedPairingTransitions(pairing.status, 'revoke'));
  }
  const { orderIds, executingOrderIds = [] } = command.openOrders;
  const count = Math.max(command.openOrders.count ?? 0, orderIds.length);
  const force = command.force === true;
  if (count > 0 && !force) {
    throw new DomainError('OPEN_MARKET_ORDERS', `agent-pairing ${pairing.id} has ${count} open market order(s)`, {
      orderIds: orderIds.slice(0, ORDER_IDS_SHOWN),
      count,
    });
  }
  if (force && executingOrderIds.length > 0) {
    throw new DomainError('OPEN_MARKET_ORDERS', `agent-pairing ${pairing.id} has ${executingOrderIds.length} executing order(s)`, {
      reason: 'orders_executing',
      orderIds: executingOrderIds.slice(0, ORDER_IDS_SHOWN),
      count: executingOrderIds.length,
    });
  }
  return [{ type: 'agent_pairing.revoked', data: { from: pairing.status, to: 'revoked', force, at: now } }];
}

/** §7.3 steps 1–5 against the pairing's current policy and spend, then the spend record (§8.7.2). */
function registerOrder(command: RegisterAgentPairingOrder, state: LiveState, now: string): AgentPairingEvent[] {
  const { pairing } = state;
  if (!PAIRING_STATUS_ALLOWS[pairing.status].orders) throw inactive(pairing);
  // A retried registration of the same order counts it once.
  if (state.spend.has(command.orderId)) return [];

  const policy = pairing.delegationPolicy;
  assertDelegationListsAllow(policy, command.subject, pairing.id);
  if (command.machinePolicyDenial) {
    throw new DomainError('AGENT_POLICY_DENIED', `Machine policy ${command.machinePolicyDenial.policyId} denies the order`, {
      ...command.machinePolicyDenial,
      source: 'machinePolicy',
    });
  }
  const day = utcDay(now);
  const spentToday = state.spend.spentOn({ day, currency: policy.currency, excludedOrderIds: command.excludedOrderIds });
  assertDelegationLimitsAllow(policy, { amount: command.amount, currency: command.currency, spentToday, day }, pairing.id);

  return [
    {
      type: 'agent_pairing.order_registered',
      data: {
        orderId: command.orderId,
        amount: command.amount === null ? null : toDecimal(command.amount),
        currency: command.currency === null ? null : command.currency.toUpperCase(),
        day,
      },
    },
  ];
}

function sessionIssued(session: IssuedSession, previousSessionId: string | null, proof: VerifiedAgentProof | undefined, now: string) {
  const data: SessionIssuedData = {
    sessionId: session.sessionId,
    sessionTokenId: session.jti,
    sessionIssuedAt: isoFromNumericDate(session.iat),
    sessionExpiresAt: isoFromNumericDate(session.exp),
    tokenLastFour: session.tokenLastFour,
    delegationPolicyHash: session.delegationPolicyHash,
    previousSessionId,
    at: now,
  };
  if (proof) {
    data.verification = {
      method: 'eip191',
      signerAddress: toEip55Address(proof.signerAddress),
      verifiedAt: now,
      challengeExpiresAt: proof.challengeExpiresAt,
    };
    data.challengeId = proof.challengeId;
    data.signatureFingerprint = agentSignatureFingerprint(proof.signature);
  }
  return data;
}

/** §5.4.3 step 7, checked again: a proof signed by another key cannot be attached. */
function assertSigner(proof: VerifiedAgentProof, agentAddress: string): void {
  if (proof.signerAddress.toLowerCase() !== agentAddress.toLowerCase()) {
    throw new DomainError('AGENT_PAIRING_PROOF_INVALID', 'The agent proof was not signed by agentAddress', {
      reason: 'signer_mismatch',
      challengeId: proof.challengeId,
    });
  }
}

/**
 * The token was signed before the decision with the policy hash the handler read. If a concurrent
 * PATCH changed the policy in between, the token would be born stale (§1.2 step 8): refuse, so the
 * request has no effect and can be retried (§0.15).
 */
function assertSessionPolicy(pairingId: string, session: IssuedSession, currentHash: string): void {
  if (session.delegationPolicyHash !== currentHash) {
    throw new DomainError('CONCURRENCY_CONFLICT', `The delegation policy of agent-pairing ${pairingId} changed concurrently; retry`, {
      entityType: ENTITY,
      id: pairingId,
    });
  }
}

function inactive(pairing: AgentPairing): DomainError {
  return pairingInactive(pairing.id, pairing.status);
}

/** `403 AGENT_PAIRING_INACTIVE` with `{ pairingId, status }` (§0.9, §1.2 step 6, §1.3). */
export function pairingInactive(pairingId: string, status: string): DomainError {
  return new DomainError('AGENT_PAIRING_INACTIVE', `agent-pairing ${pairingId} is ${status}`, { pairingId, status } satisfies ErrorDetails);
}

/** §9: the lower-case SHA-256 hex of the agent proof signature in lower case. */
export function agentSignatureFingerprint(signature: string): string {
  return sha256Hex(signature.toLowerCase());
}

export function agentPairingStream(id: string, machineId: string) {
  return { streamId: `agent-pairing-${id}`, entityType: ENTITY, entityId: id, machineId };
}
