import { ErrorCode } from './error-codes';

/** `details` is always a JSON object (§0.8); `reason` is a stable snake_case sub-code. */
export type ErrorDetails = { reason?: string; [key: string]: unknown };

/**
 * The only error a decider or handler throws on a request path. The HTTP layer maps `code` to a
 * status (§0.9); the domain knows nothing about HTTP.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export type ValidationIssue = {
  location: 'body' | 'query' | 'path' | 'header';
  /** JSON Pointer into the body ("" = whole body), or the parameter / header name. */
  path: string;
  message: string;
};

/** `VALIDATION_ERROR` with the details shape of §0.8 (at least one entry in `errors`). */
export function validationError(issues: ValidationIssue[], reason?: string, message?: string): DomainError {
  const list = issues.length > 0 ? issues : [{ location: 'body' as const, path: '', message: 'Invalid request' }];
  return new DomainError('VALIDATION_ERROR', message ?? list.map((i) => i.message).join('; '), {
    ...(reason ? { reason } : {}),
    errors: list,
  });
}

export function notFound(entityType: string, id: string): DomainError {
  return new DomainError('NOT_FOUND', `${entityType} ${id} was not found`, { entityType, id });
}

export function stateConflict(entityType: string, id: string, status: string, reason: string, allowed?: string[]): DomainError {
  return new DomainError('STATE_CONFLICT', `${entityType} ${id} is ${status}: ${reason.replace(/_/g, ' ')}`, {
    entityType,
    id,
    status,
    reason,
    ...(allowed ? { allowed } : {}),
  });
}
