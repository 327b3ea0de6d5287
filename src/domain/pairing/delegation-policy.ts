import { canonicalHash, canonicalJson } from '../shared/canonical-json';
import { addDecimals, compareDecimals, toDecimal } from '../shared/decimal';
import { DomainError } from '../shared/domain-error';

/** §5.1 `DelegationPolicy` in normalised form: all seven members present, `null` when unset. */
export type DelegationPolicy = {
  allowedSkillKeys: string[];
  deniedSkillKeys: string[];
  allowedServiceIds: string[];
  deniedServiceIds: string[];
  perTransactionLimit: number | null;
  dailySpendLimit: number | null;
  /** Upper-case currency code (§0.6) or null. */
  currency: string | null;
};

/** §5.1 `DelegationPolicyInput` (already shape-validated by the HTTP layer). */
export type DelegationPolicyInput = {
  allowedSkillKeys?: readonly string[] | null;
  deniedSkillKeys?: readonly string[] | null;
  allowedServiceIds?: readonly string[] | null;
  deniedServiceIds?: readonly string[] | null;
  /** `null` clears (PATCH). */
  perTransactionLimit?: number | null;
  /** `null` clears (PATCH). */
  dailySpendLimit?: number | null;
  /** `null` clears (PATCH); stored upper-cased. */
  currency?: string | null;
};

const LISTS = ['allowedSkillKeys', 'deniedSkillKeys', 'allowedServiceIds', 'deniedServiceIds'] as const;
const NULLABLE = ['perTransactionLimit', 'dailySpendLimit', 'currency'] as const;
const MEMBERS: ReadonlyArray<keyof DelegationPolicy> = [...LISTS, ...NULLABLE];

/** §5.1 defaults at creation: every list `[]`, both limits `null`, `currency` `null`. */
export function defaultDelegationPolicy(): DelegationPolicy {
  return {
    allowedSkillKeys: [],
    deniedSkillKeys: [],
    allowedServiceIds: [],
    deniedServiceIds: [],
    perTransactionLimit: null,
    dailySpendLimit: null,
    currency: null,
  };
}

/** The normalised policy of a create request: omitted members take their defaults (§5.1). */
export function normaliseDelegationPolicy(input: DelegationPolicyInput = {}): DelegationPolicy {
  return mergeDelegationPolicy(defaultDelegationPolicy(), input);
}

/**
 * §5.8.6: each member present in the request replaces the stored member; `null` clears a limit or the
 * currency; absent members are unchanged. A list sent as `null` counts as absent (§0.3: `null` has no
 * meaning for lists). Lists are kept exactly as given, order and duplicates included (§5.1).
 */
export function mergeDelegationPolicy(current: DelegationPolicy, patch: DelegationPolicyInput): DelegationPolicy {
  const next = copy(current);
  for (const list of LISTS) {
    const value = patch[list];
    if (value !== undefined && value !== null) next[list] = [...value];
  }
  if (patch.perTransactionLimit !== undefined) next.perTransactionLimit = patch.perTransactionLimit;
  if (patch.dailySpendLimit !== undefined) next.dailySpendLimit = patch.dailySpendLimit;
  if (patch.currency !== undefined) next.currency = patch.currency === null ? null : patch.currency.toUpperCase();
  return next;
}

/**
 * §5.6: SHA-256 hex of the canonical JSON of exactly the seven members (keys sorted, arrays in their
 * stored order).
 */
export function delegationPolicyHash(policy: DelegationPolicy): string {
  return canonicalHash(copy(policy));
}

/** The members whose value differs between two normalised policies, with their new values. */
export function changedPolicyMembers(before: DelegationPolicy, after: DelegationPolicy): Partial<DelegationPolicy> {
  const changes: Record<string, unknown> = {};
  for (const member of MEMBERS) {
    if (canonicalJson(before[member]) !== canonicalJson(after[member])) changes[member] = after[member];
  }
  return changes as Partial<DelegationPolicy>;
}

function copy(policy: DelegationPolicy): DelegationPolicy {
  return {
    allowedSkillKeys: [...policy.allowedSkillKeys],
    deniedSkillKeys: [...policy.deniedSkillKeys],
    allowedServiceIds: [...policy.allowedServiceIds],
    deniedServiceIds: [...policy.deniedServiceIds],
    perTransactionLimit: policy.perTransactionLimit,
    dailySpendLimit: policy.dailySpendLimit,
    currency: policy.currency,
  };
}

// ---------------------------------------------------------------------------------------------------
// §5.7 allow and deny lists
// ---------------------------------------------------------------------------------------------------

/** The service a policy is evaluated for. */
export type PolicySubject = { skillKey: string; serviceId: string };

export type DelegationListReason = 'skill_denied' | 'skill_not_allowed' | 'service_denied' | 'service_not_allowed';

/**
 * Every failing list check of §5.7, in the spec's order (exact, case-sensitive, no wildcards; deny
 * beats allow; an empty allow list means no restriction). Search reports them all (§6.4.4 X4); order
 * creation and execute refuse with the first.
 */
export function delegationListViolations(policy: DelegationPolicy, { skillKey, serviceId }: PolicySubject): DelegationListReason[] {
  const reasons: DelegationListReason[] = [];
  if (policy.deniedSkillKeys.includes(skillKey)) reasons.push('skill_denied');
  if (policy.allowedSkillKeys.length > 0 && !policy.allowedSkillKeys.includes(skillKey)) reasons.push('skill_not_allowed');
  if (policy.deniedServiceIds.includes(serviceId)) reasons.push('service_denied');
  if (policy.allowedServiceIds.length > 0 && !policy.allowedServiceIds.includes(serviceId)) reasons.push('service_not_allowed');
  return reasons;
}

/** §5.7: `403 AGENT_POLICY_DENIED` with `{ source: "delegationPolicy", reason, pairingId, skillKey, serviceId }`. */
export function delegationListError(reason: DelegationListReason, subject: PolicySubject, pairingId: string): DomainError {
  return new DomainError('AGENT_POLICY_DENIED', `Delegation policy of pairing ${pairingId}: ${reason.replace(/_/g, ' ')}`, {
    source: 'delegationPolicy',
    reason,
    pairingId,
    skillKey: subject.skillKey,
    serviceId: subject.serviceId,
  });
}

/** Throws the first list violation (§7.3 step 1, §7.5.10 re-evaluation). */
export function assertDelegationListsAllow(policy: DelegationPolicy, subject: PolicySubject, pairingId: string): void {
  const [first] = delegationListViolations(policy, subject);
  if (first) throw delegationListError(first, subject, pairingId);
}

// ---------------------------------------------------------------------------------------------------
// §5.7 limits
// ---------------------------------------------------------------------------------------------------

export type SpendFacts = {
  /** The effective amount (§7.3), as a JSON number or decimal string; `null` when unknown. */
  amount: number | string | null;
  /** The effective currency (§7.3); `null` when unknown. */
  currency: string | null;
  /** The pairing's spend of `day` (see `spentOn`), a decimal string. */
  spentToday: string;
  /** `YYYY-MM-DD`, the current UTC day. */
  day: string;
};

/**
 * One failing limit check. Amounts are normalised decimal strings; `amount: null` is the
 * `amount_unknown` case. `currency` is the currency the limit is in: the policy's, else the order's.
 */
export type LimitViolation =
  | { kind: 'currency_mismatch'; currency: string; policyCurrency: string }
  | { kind: 'per_transaction'; amount: string | null; currency: string | null; limit: string }
  | { kind: 'daily'; amount: string | null; spentToday: string; currency: string | null; limit: string; day: string };

/**
 * Every failing limit check of §5.7, in the order of §7.3 steps 3–5 (currency, per transaction,
 * daily). An amount equal to a limit is allowed. Each check is made on its own, so a caller that
 * needs the first failure takes the first element; search (§6.4.4 X7) may report every one.
 */
export function delegationLimitViolations(policy: DelegationPolicy, facts: SpendFacts): LimitViolation[] {
  const violations: LimitViolation[] = [];
  const anyLimit = policy.perTransactionLimit !== null || policy.dailySpendLimit !== null;
  const orderCurrency = facts.currency === null ? null : facts.currency.toUpperCase();
  if (anyLimit && policy.currency !== null && orderCurrency !== null && orderCurrency !== policy.currency) {
    violations.push({ kind: 'currency_mismatch', currency: orderCurrency, policyCurrency: policy.currency });
  }
  // An order of unknown currency is assumed to be in the policy currency; without a policy currency
  // the bare amounts are compared.
  const currency = policy.currency ?? orderCurrency;
  const amount = facts.amount === null ? null : toDecimal(facts.amount);

  if (policy.perTransactionLimit !== null) {
    const limit = toDecimal(policy.perTransactionLimit);
    if (amount === null || compareDecimals(amount, limit) > 0) violations.push({ kind: 'per_transaction', amount, currency, limit });
  }
  if (policy.dailySpendLimit !== null) {
    const limit = toDecimal(policy.dailySpendLimit);
    const spentToday = toDecimal(facts.spentToday);
    if (amount === null || compareDecimals(addDecimals(spentToday, amount), limit) > 0) {
      violations.push({ kind: 'daily', amount, spentToday, currency, limit, day: facts.day });
    }
  }
  return violations;
}

/** The API error of a limit violation (§5.7, §0.9). */
export function limitViolationError(violation: LimitViolation, pairingId: string): DomainError {
  switch (violation.kind) {
    case 'currency_mismatch':
      return new DomainError(
        'AGENT_POLICY_DENIED',
        `Delegation policy of pairing ${pairingId}: currency ${violation.currency} differs from policy currency ${violation.policyCurrency}`,
        {
          source: 'delegationPolicy',
          reason: 'currency_mismatch',
          pairingId,
          currency: violation.currency,
          policyCurrency: violation.policyCurrency,
        },
      );
    case 'per_transaction': {
      const { amount, currency, limit } = violation;
      return amount === null
        ? new DomainError(
            'AGENT_SPEND_LIMIT_EXCEEDED',
            'The order amount is unknown and a perTransactionLimit is set; send budget.amount',
            {
              reason: 'amount_unknown',
              amount,
              currency,
              limit,
            },
          )
        : new DomainError('AGENT_SPEND_LIMIT_EXCEEDED', `Amount ${amount} exceeds perTransactionLimit ${limit}`, {
            amount,
            currency,
            limit,
          });
    }
    case 'daily': {
      const { amount, spentToday, limit, currency, day } = violation;
      return amount === null
        ? new DomainError('AGENT_DAILY_LIMIT_EXCEEDED', 'The order amount is unknown and a dailySpendLimit is set; send budget.amount', {
            reason: 'amount_unknown',
            amount,
            spentToday,
            limit,
            currency,
            day,
          })
        : new DomainError(
            'AGENT_DAILY_LIMIT_EXCEEDED',
            `Spent today ${spentToday} plus ${amount} exceeds dailySpendLimit ${limit} (${day})`,
            {
              amount,
              spentToday,
              limit,
              currency,
              day,
            },
          );
    }
  }
}

/** Throws the first limit violation (§7.3 steps 3–5). */
export function assertDelegationLimitsAllow(policy: DelegationPolicy, facts: SpendFacts, pairingId: string): void {
  const [first] = delegationLimitViolations(policy, facts);
  if (first) throw limitViolationError(first, pairingId);
}

// ---------------------------------------------------------------------------------------------------
// §5.7 spentToday
// ---------------------------------------------------------------------------------------------------

/** An order counted against a pairing's spend (`agent_pairing.order_registered`, §8.7.2). */
export type OrderSpend = {
  orderId: string;
  /** Normalised decimal string, or null when the effective amount was unknown. */
  amount: string | null;
  /** Upper-case, or null when unknown. */
  currency: string | null;
  /** `YYYY-MM-DD`, the UTC day the order was created. */
  day: string;
};

export type SpendWindow = {
  day: string;
  /** The policy's current currency: when set, orders of another known currency count as 0. */
  currency: string | null;
  /** Orders that no longer count: status `cancelled` or `failed`, or payment `refunded`. */
  excludedOrderIds?: Iterable<string>;
};
