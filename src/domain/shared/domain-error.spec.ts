import { DomainError, notFound, stateConflict, validationError } from './domain-error';
import { isErrorCode } from './error-codes';

// The code → status table of §0.9 is checked in src/http/errors/error-response.spec.ts.
describe('DomainError', () => {
  it('is an Error carrying an API code, a message and details', () => {
    const error = new DomainError('POLICY_IN_USE', 'Policy is referenced', { policyId: 'pol_1', machineIds: ['mach_1'] });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DomainError');
    expect(error.code).toBe('POLICY_IN_USE');
    expect(error.message).toBe('Policy is referenced');
    expect(error.details).toEqual({ policyId: 'pol_1', machineIds: ['mach_1'] });
  });

  it('may have no details', () => {
    expect(new DomainError('INTERNAL_ERROR', 'x').details).toBeUndefined();
  });
});

describe('isErrorCode', () => {
  it('accepts codes of §0.9 and nothing else', () => {
    expect(isErrorCode('VALIDATION_ERROR')).toBe(true);
    expect(isErrorCode('CONCURRENCY_CONFLICT')).toBe(true);
    expect(isErrorCode('validation_error')).toBe(false);
    expect(isErrorCode('BAD_REQUEST')).toBe(false);
    expect(isErrorCode(400)).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });
});

describe('validationError (§0.8 ValidationErrorDetails)', () => {
  it('is VALIDATION_ERROR with the issues under details.errors and no reason by default', () => {
    const error = validationError([{ location: 'query', path: 'limit', message: 'limit must be an integer 1..500' }]);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details).toEqual({ errors: [{ location: 'query', path: 'limit', message: 'limit must be an integer 1..500' }] });
    expect(error.details).not.toHaveProperty('reason');
    expect(error.message).toBe('limit must be an integer 1..500');
  });

  it('carries a reason when given, and joins the messages', () => {
    const error = validationError(
      [
        { location: 'body', path: '/rail', message: 'rail is not supported' },
        { location: 'header', path: 'idempotency-key', message: 'bad key' },
      ],
      'rail_not_supported',
    );
    expect(error.details).toEqual({
      reason: 'rail_not_supported',
      errors: [
        { location: 'body', path: '/rail', message: 'rail is not supported' },
        { location: 'header', path: 'idempotency-key', message: 'bad key' },
      ],
    });
    expect(error.message).toBe('rail is not supported; bad key');
  });

  it('uses an explicit message when given', () => {
    expect(validationError([{ location: 'path', path: 'machineId', message: 'bad id' }], undefined, 'Invalid machine id').message).toBe(
      'Invalid machine id',
    );
  });

  it('always has at least one entry in errors', () => {
    const error = validationError([]);
    expect(error.details?.errors).toEqual([{ location: 'body', path: '', message: 'Invalid request' }]);
  });
});

describe('notFound', () => {
  it('is NOT_FOUND with entityType and id', () => {
    const error = notFound('machine', 'mach_1');
    expect(error.code).toBe('NOT_FOUND');
    expect(error.details).toEqual({ entityType: 'machine', id: 'mach_1' });
  });
});

describe('stateConflict', () => {
  it('is STATE_CONFLICT with entityType, id, status, reason and allowed', () => {
    const error = stateConflict('market-order', 'ord_1', 'executing', 'order_executing', ['confirm']);
    expect(error.code).toBe('STATE_CONFLICT');
    expect(error.details).toEqual({
      entityType: 'market-order',
      id: 'ord_1',
      status: 'executing',
      reason: 'order_executing',
      allowed: ['confirm'],
    });
    expect(error.message).toBe('market-order ord_1 is executing: order executing');
  });

  it('omits allowed when not given', () => {
    expect(stateConflict('payment', 'ord_1', 'held', 'not_release_pending').details).not.toHaveProperty('allowed');
  });
});
