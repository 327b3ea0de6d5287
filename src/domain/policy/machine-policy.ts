import { CatalogService, ExecutionMode, knownPrice, ServiceType } from '../catalog/catalog-types';
import { compareDecimals, toDecimal } from '../shared/decimal';
import { DomainError } from '../shared/domain-error';
import { Policy } from './policy.decider';

/** §8.6 `reason` codes of machine policies, in the order the rules are checked. */
export type MachinePolicyReason =
  | 'provider_denied'
  | 'provider_not_allowed'
  | 'service_type_not_allowed'
  | 'native_execution_required'
  | 'currency_mismatch'
  | 'amount_unknown'
  | 'exceeds_max_order_amount';

/** The service a machine policy is evaluated for. */
export type MachinePolicySubject = { providerKey: string; serviceType: ServiceType; executionMode: ExecutionMode };

/** The order's effective amount and currency (§7.3): a JSON number or decimal string, `null` when unknown. */
export type MachinePolicyAmount = { amount: number | string | null; currency: string | null };

export type MachinePolicyDenial = { policyId: string; reason: MachinePolicyReason };

type EvaluatedPolicy = Pick<Policy, 'id' | 'rules'>;

/**
 * One failing rule, with what the §6.4.4 X5 templates print. Amounts are normalised decimal strings;
 * `currency` is the order's (or price's) currency as given.
 */
type Violation =
  | { reason: 'provider_denied' | 'provider_not_allowed' | 'service_type_not_allowed' | 'native_execution_required' | 'amount_unknown' }
  | { reason: 'currency_mismatch'; currency: string; policyCurrency: string }
  | { reason: 'exceeds_max_order_amount'; amount: string; currency: string | null; maxOrderAmount: string };

/**
 * Every failing rule of one policy, in the order of §8.6. Rules 1–4 are checked independently; rule 5
 * (`maxOrderAmount`) yields at most one reason: a known currency that differs from the policy's, else an
 * unknown amount, else an amount above the limit (equal is allowed). An unknown currency is assumed to be
 * the policy's; without a policy currency the bare amounts are compared. `amount: undefined` skips rule 5
 * (search and service detail with an unknown price, §6.4.4).
 */
function violationsOf(policy: EvaluatedPolicy, subject: MachinePolicySubject, amount: MachinePolicyAmount | undefined): Violation[] {
  const { rules } = policy;
  const violations: Violation[] = [];
  if (rules.deniedProviderKeys?.includes(subject.providerKey)) violations.push({ reason: 'provider_denied' });
  if (rules.allowedProviderKeys?.length && !rules.allowedProviderKeys.includes(subject.providerKey)) {
    violations.push({ reason: 'provider_not_allowed' });
  }
  if (rules.allowedServiceTypes?.length && !rules.allowedServiceTypes.includes(subject.serviceType)) {
    violations.push({ reason: 'service_type_not_allowed' });
  }
  if (rules.requireNativeExecution === true && subject.executionMode !== 'native') violations.push({ reason: 'native_execution_required' });
  if (rules.maxOrderAmount !== undefined && amount !== undefined) {
    const maxOrderAmount = toDecimal(rules.maxOrderAmount);
    if (rules.currency !== undefined && amount.currency !== null && amount.currency.toUpperCase() !== rules.currency) {
      violations.push({ reason: 'currency_mismatch', currency: amount.currency, policyCurrency: rules.currency });
    } else if (amount.amount === null) {
      violations.push({ reason: 'amount_unknown' });
    } else if (compareDecimals(amount.amount, maxOrderAmount) > 0) {
      violations.push({ reason: 'exceeds_max_order_amount', amount: toDecimal(amount.amount), currency: amount.currency, maxOrderAmount });
    }
  }
  return violations;
}

/** §8.6: the reasons of every failing rule of one policy, in order (empty when the policy allows). */
export function machinePolicyViolations(
  policy: EvaluatedPolicy,
  subject: MachinePolicySubject,
  amount: MachinePolicyAmount,
): MachinePolicyReason[] {
  return violationsOf(policy, subject, amount).map((v) => v.reason);
}

/**
 * §8.6 / §7.3 step 2: the machine's policies in `policyIds` order; the first failing rule of the first
 * policy that fails, or `null` when every policy allows.
 */
export function firstMachinePolicyDenial(
  policies: readonly EvaluatedPolicy[],
  subject: MachinePolicySubject,
  amount: MachinePolicyAmount,
): MachinePolicyDenial | null {
  for (const policy of policies) {
    const [first] = violationsOf(policy, subject, amount);
    if (first) return { policyId: policy.id, reason: first.reason };
  }
  return null;
}

/** §8.6: `403 AGENT_POLICY_DENIED` with `details: { source: "machinePolicy", policyId, reason }`. */
export function machinePolicyError({ policyId, reason }: MachinePolicyDenial): DomainError {
  return new DomainError('AGENT_POLICY_DENIED', `Machine policy ${policyId}: ${reason.replace(/_/g, ' ')}`, {
    source: 'machinePolicy',
    policyId,
    reason,
  });
}

/**
 * §6.3.4 `policyDenials`: for each policy in `policyIds` order, its first failing rule; policies that
 * allow the service are not listed. Price-dependent rules are evaluated only when the price is known.
 */
export function policyDenialsForService(policies: readonly EvaluatedPolicy[], service: CatalogService): MachinePolicyDenial[] {
  const price = priceOf(service);
  const denials: MachinePolicyDenial[] = [];
  for (const policy of policies) {
    const [first] = violationsOf(policy, service, price);
    if (first) denials.push({ policyId: policy.id, reason: first.reason });
  }
  return denials;
}

/**
 * §6.4.4 X5: one reason per failing rule, policy by policy in `policyIds` order, in the exact
 * templates of the spec. Price-dependent rules apply only when the price is known (an unknown price is
 * enforced at order creation instead).
 */
export function machinePolicyExclusionReasons(policies: readonly EvaluatedPolicy[], service: CatalogService): string[] {
  const price = priceOf(service);
  return policies.flatMap((policy) =>
    violationsOf(policy, service, price).map((violation) => exclusionReason(policy.id, service, violation)),
  );
}

function exclusionReason(policyId: string, service: CatalogService, violation: Violation): string {
  const prefix = `machine policy ${policyId}:`;
  switch (violation.reason) {
    case 'provider_denied':
      return `${prefix} provider '${service.providerKey}' is denied`;
    case 'provider_not_allowed':
      return `${prefix} provider '${service.providerKey}' is not in allowedProviderKeys`;
    case 'service_type_not_allowed':
      return `${prefix} service type '${service.serviceType}' is not in allowedServiceTypes`;
    case 'native_execution_required':
      return `${prefix} native execution required`;
    case 'currency_mismatch':
      return `${prefix} currency ${violation.currency} differs from policy currency ${violation.policyCurrency}`;
    case 'exceeds_max_order_amount':
      return `${prefix} price ${formatPrice(violation.amount, violation.currency)} exceeds maxOrderAmount ${violation.maxOrderAmount}`;
    case 'amount_unknown':
      // Not reachable: rule 5 runs only with a known price here.
      return `${prefix} amount unknown`;
  }
}

/** §6.2 known price as the policy amount; `undefined` (skip the price rules) when it is unknown. */
function priceOf(service: CatalogService): MachinePolicyAmount | undefined {
  const price = knownPrice(service);
  return price === null ? undefined : { amount: price, currency: service.pricing.currency };
}

/** §6.4.4 `{price}`: the decimal string, then a space and the currency when there is one. */
function formatPrice(amount: string, currency: string | null): string {
  return currency === null ? amount : `${amount} ${currency}`;
}
