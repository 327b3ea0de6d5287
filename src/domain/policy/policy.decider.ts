import { ServiceType } from '../catalog/catalog-types';
import { canonicalJson } from '../shared/canonical-json';
import { Decider } from '../shared/decider';
import { DomainError, notFound } from '../shared/domain-error';

/** §8.6 `Policy["rules"]`: unset members are absent (never `null`) and omitted from responses. */
export type PolicyRules = {
  maxOrderAmount?: number;
  /** Upper-case currency code (§0.6). */
  currency?: string;
  /** Lower-case provider keys. */
  allowedProviderKeys?: string[];
  /** Lower-case provider keys. */
  deniedProviderKeys?: string[];
  allowedServiceTypes?: ServiceType[];
  requireNativeExecution?: boolean;
};

/** §8.6 `UpdatePolicyRequest["rules"]`: merged member by member; `null` removes a member. */
export type PolicyRulesPatch = { [K in keyof PolicyRules]?: PolicyRules[K] | null };

/** §8.6 `Policy`, exactly as the API returns it. */
export type Policy = {
  id: string;
  name: string;
  description: string;
  rules: PolicyRules;
  createdAt: string;
  updatedAt: string;
};

/** The fields a PATCH may change; `rules` carries the whole merged rule set. */
export type PolicyChanges = Partial<Pick<Policy, 'name' | 'description' | 'rules'>>;

/** The members of `rules` in the order of §8.6 (the order responses list them in). */
export const POLICY_RULE_MEMBERS = [
  'maxOrderAmount',
  'currency',
  'allowedProviderKeys',
  'deniedProviderKeys',
  'allowedServiceTypes',
  'requireNativeExecution',
] as const satisfies ReadonlyArray<keyof PolicyRules>;

/**
 * Event data follows §8.7.1: the creation event carries the policy as the API returns it, the update
 * event `{ changes }` (plus `at`, the new `updatedAt`, as every update event of this service), the
 * deletion `{ id }` — exactly the shapes of the §8.7.3 test vector.
 */
export type PolicyEvent =
  | { type: 'policy.created'; data: Policy }
  | { type: 'policy.updated'; data: { changes: PolicyChanges; at: string } }
  | { type: 'policy.deleted'; data: { id: string } };

export type PolicyState = { kind: 'none' } | { kind: 'live'; policy: Policy } | { kind: 'deleted'; id: string };

export type CreatePolicy = {
  type: 'create';
  id: string;
  name: string;
  /** Default `""`. */
  description?: string;
  /** Default `{}`; `null` members count as absent (§0.3). */
  rules?: PolicyRulesPatch;
};

export type UpdatePolicy = {
  type: 'update';
  id: string;
  name?: string;
  description?: string;
  rules?: PolicyRulesPatch;
};

export type DeletePolicy = {
  type: 'delete';
  id: string;
  /** The non-archived machines whose `policyIds` contain the policy, looked up by the handler. */
  referencedBy: readonly string[];
};

export type PolicyCommand = CreatePolicy | UpdatePolicy | DeletePolicy;

export const policyDecider: Decider<PolicyCommand, PolicyState, PolicyEvent> = {
  initialState: () => ({ kind: 'none' }),

  evolve(state, event) {
    switch (event.type) {
      case 'policy.created':
        return state.kind === 'none' ? { kind: 'live', policy: event.data } : state;
      case 'policy.updated':
        return state.kind === 'live' ? { kind: 'live', policy: applyPolicyEvent(state.policy, event) } : state;
      case 'policy.deleted':
        return { kind: 'deleted', id: event.data.id };
    }
  },

  decide(command, state, { now }) {
    if (command.type === 'create') {
      if (state.kind !== 'none') {
        throw new DomainError('STATE_CONFLICT', `policy ${command.id} already exists`, {
          entityType: 'policy',
          id: command.id,
          status: state.kind,
          reason: 'exists',
        });
      }
      const policy: Policy = {
        id: command.id,
        name: command.name,
        description: command.description ?? '',
        rules: mergePolicyRules({}, command.rules ?? {}),
        createdAt: now,
        updatedAt: now,
      };
      return [{ type: 'policy.created', data: policy }];
    }
    // §8.6: a deleted policy is gone for every later request.
    if (state.kind !== 'live') throw notFound('policy', command.id);
    const policy = state.policy;
    switch (command.type) {
      case 'update': {
        const changes = changedFields(policy, command);
        // A PATCH that changes nothing writes nothing.
        return Object.keys(changes).length === 0 ? [] : [{ type: 'policy.updated', data: { changes, at: now } }];
      }
      case 'delete':
        if (command.referencedBy.length > 0) {
          throw new DomainError('POLICY_IN_USE', `policy ${policy.id} is referenced by ${command.referencedBy.length} machine(s)`, {
            policyId: policy.id,
            machineIds: [...command.referencedBy],
          });
        }
        return [{ type: 'policy.deleted', data: { id: policy.id } }];
    }
  },
};

/**
 * The policy as the API returns it after one more of its events: shared by the decider and the
 * `policies` read model so both see exactly the same record.
 */
export function applyPolicyEvent(policy: Policy, event: Exclude<PolicyEvent, { type: 'policy.deleted' }>): Policy {
  switch (event.type) {
    case 'policy.created':
      return policy;
    case 'policy.updated':
      return { ...policy, ...event.data.changes, updatedAt: event.data.at };
  }
}

/**
 * §8.6 PATCH merge: each member present in the patch replaces the stored one, `null` removes it,
 * absent members are kept. Members are normalised on the way in: the currency upper-cased (§0.6),
 * provider keys lower-cased (§0.5), duplicates in lists removed (first occurrence kept). The result
 * lists its members in the order of §8.6.
 */
export function mergePolicyRules(current: PolicyRules, patch: PolicyRulesPatch): PolicyRules {
  const merged: Record<string, unknown> = {};
  for (const member of POLICY_RULE_MEMBERS) {
    const value = patch[member] === undefined ? current[member] : patch[member];
    if (value !== undefined && value !== null) merged[member] = normaliseMember(member, value);
  }
  return merged as PolicyRules;
}

function normaliseMember(member: keyof PolicyRules, value: NonNullable<PolicyRules[keyof PolicyRules]>): unknown {
  switch (member) {
    case 'currency':
      return (value as string).toUpperCase();
    case 'allowedProviderKeys':
    case 'deniedProviderKeys':
      return unique((value as string[]).map((key) => key.toLowerCase()));
    case 'allowedServiceTypes':
      return unique(value as ServiceType[]);
    default:
      return value;
  }
}

/** The fields whose new value differs from the stored one. */
function changedFields(policy: Policy, command: UpdatePolicy): PolicyChanges {
  const changes: PolicyChanges = {};
  if (command.name !== undefined && command.name !== policy.name) changes.name = command.name;
  if (command.description !== undefined && command.description !== policy.description) changes.description = command.description;
  if (command.rules !== undefined) {
    const rules = mergePolicyRules(policy.rules, command.rules);
    if (canonicalJson(rules) !== canonicalJson(policy.rules)) changes.rules = rules;
  }
  return changes;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

export function policyStream(id: string) {
  return { streamId: `policy-${id}`, entityType: 'policy', entityId: id, machineId: null };
}
