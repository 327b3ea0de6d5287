import { OperationContract, OperationField, OperationFieldType } from '../catalog/catalog-types';
import { ValidationIssue } from '../shared/domain-error';

/**
 * §7.5.2 step 8 (and §7.5.10 step 3): every `inputFields` entry with `required: true` is present and not
 * `null`; every present field has its contract type (`integer` = a number without fractional part).
 * Extra keys are allowed. One issue per failing field, in contract order, at `/input/<key>`.
 */
export function operationInputIssues(
  contract: Pick<OperationContract, 'inputFields'> | null,
  input: Record<string, unknown>,
): ValidationIssue[] {
  if (contract === null) return [];
  const issues: ValidationIssue[] = [];
  for (const field of contract.inputFields) {
    const present = Object.prototype.hasOwnProperty.call(input, field.key) && input[field.key] !== undefined;
    const value = present ? input[field.key] : undefined;
    if (!present || value === null) {
      if (field.required) issues.push(issue(field, `input.${field.key} is required`));
      continue;
    }
    if (!hasType(value, field.type)) issues.push(issue(field, `input.${field.key} must be of type ${field.type}`));
  }
  return issues;
}

function issue(field: OperationField, message: string): ValidationIssue {
  return { location: 'body', path: `/input/${escapePointer(field.key)}`, message };
}

function hasType(value: unknown, type: OperationFieldType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
  }
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The contract of `operation` among a service's `operationContracts`, or null when there is none. */
export function contractFor(contracts: readonly OperationContract[] | undefined, operation: string): OperationContract | null {
  return contracts?.find((contract) => contract.operation === operation) ?? null;
}
