import { DomainError } from '../../domain/shared/domain-error';
import { ERROR_STATUS } from '../../http/errors/error-response';
import { McrFailure } from '../ports/mcr-resolver.port';
import { mcrFailureOnRead, mcrFailureOnWrite } from './mcr-failure-errors';

function shape(error: DomainError) {
  expect(error).toBeInstanceOf(DomainError);
  return { code: error.code, status: ERROR_STATUS[error.code], details: error.details };
}

const unavailable: [string, McrFailure, Record<string, unknown>][] = [
  ['timeout', { kind: 'unavailable', reason: 'timeout' }, { reason: 'timeout' }],
  ['network', { kind: 'unavailable', reason: 'network' }, { reason: 'network' }],
  ['bad_response', { kind: 'unavailable', reason: 'bad_response' }, { reason: 'bad_response' }],
  [
    'upstream_status',
    { kind: 'unavailable', reason: 'upstream_status', upstreamStatus: 502 },
    { reason: 'upstream_status', upstreamStatus: 502 },
  ],
];

describe('MCR failure mapping (§4.3 failure table)', () => {
  describe('on reads, gates and challenge issuance', () => {
    it('maps not found to 409 MACHINE_NOT_ACTIVATED mcr_not_found', () => {
      expect(shape(mcrFailureOnRead({ kind: 'not_found' }))).toEqual({
        code: 'MACHINE_NOT_ACTIVATED',
        status: 409,
        details: { reason: 'mcr_not_found' },
      });
    });

    it('maps an unsupported DID to 409 MACHINE_NOT_ACTIVATED unsupported_did', () => {
      expect(shape(mcrFailureOnRead({ kind: 'unsupported_did' }))).toEqual({
        code: 'MACHINE_NOT_ACTIVATED',
        status: 409,
        details: { reason: 'unsupported_did' },
      });
    });

    it.each(unavailable)('maps %s to 503 PEAQOS_IDENTITY_UNAVAILABLE', (_label, failure, details) => {
      expect(shape(mcrFailureOnRead(failure))).toEqual({ code: 'PEAQOS_IDENTITY_UNAVAILABLE', status: 503, details });
    });
  });

  describe('on machine writes (proof verification)', () => {
    it('maps not found to 403 MACHINE_IDENTITY_PROOF_INVALID mcr_not_found', () => {
      expect(shape(mcrFailureOnWrite({ kind: 'not_found' }))).toEqual({
        code: 'MACHINE_IDENTITY_PROOF_INVALID',
        status: 403,
        details: { reason: 'mcr_not_found' },
      });
    });

    it('maps an unsupported DID to 403 MACHINE_IDENTITY_PROOF_INVALID unsupported_did', () => {
      expect(shape(mcrFailureOnWrite({ kind: 'unsupported_did' }))).toEqual({
        code: 'MACHINE_IDENTITY_PROOF_INVALID',
        status: 403,
        details: { reason: 'unsupported_did' },
      });
    });

    it.each(unavailable)('maps %s to the same 503 PEAQOS_IDENTITY_UNAVAILABLE', (_label, failure, details) => {
      expect(shape(mcrFailureOnWrite(failure))).toEqual({ code: 'PEAQOS_IDENTITY_UNAVAILABLE', status: 503, details });
    });
  });

  it('omits upstreamStatus when there is none and gives every error a message', () => {
    const error = mcrFailureOnRead({ kind: 'unavailable', reason: 'timeout' });
    expect(error.details).not.toHaveProperty('upstreamStatus');
    expect(error.message).not.toBe('');
  });
});
