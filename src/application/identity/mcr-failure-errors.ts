import { DomainError } from '../../domain/shared/domain-error';
import { McrFailure } from '../ports/mcr-resolver.port';

/** §4.3 failure table, column "on reads and gates, and on challenge issuance". */
export function mcrFailureOnRead(failure: McrFailure): DomainError {
  switch (failure.kind) {
    case 'not_found':
      return new DomainError('MACHINE_NOT_ACTIVATED', 'The machine identity does not resolve through peaqOS MCR', {
        reason: 'mcr_not_found',
      });
    case 'unsupported_did':
      return new DomainError('MACHINE_NOT_ACTIVATED', 'The machine identity resolves to an unsupported DID', {
        reason: 'unsupported_did',
      });
    case 'unavailable':
      return identityUnavailable(failure);
  }
}

/** §4.3 failure table, column "on machine writes (proof verification)". */
export function mcrFailureOnWrite(failure: McrFailure): DomainError {
  switch (failure.kind) {
    case 'not_found':
      return new DomainError('MACHINE_IDENTITY_PROOF_INVALID', 'The machine identity does not resolve through peaqOS MCR', {
        reason: 'mcr_not_found',
      });
    case 'unsupported_did':
      return new DomainError('MACHINE_IDENTITY_PROOF_INVALID', 'The machine identity resolves to an unsupported DID', {
        reason: 'unsupported_did',
      });
    case 'unavailable':
      return identityUnavailable(failure);
  }
}

const UNAVAILABLE_MESSAGES: Record<Extract<McrFailure, { kind: 'unavailable' }>['reason'], string> = {
  timeout: 'peaqOS MCR did not answer in time',
  network: 'peaqOS MCR could not be reached',
  upstream_status: 'peaqOS MCR answered with an unexpected status',
  bad_response: 'peaqOS MCR answered with an unreadable response',
};

function identityUnavailable(failure: Extract<McrFailure, { kind: 'unavailable' }>): DomainError {
  return new DomainError('PEAQOS_IDENTITY_UNAVAILABLE', UNAVAILABLE_MESSAGES[failure.reason], {
    reason: failure.reason,
    ...(failure.upstreamStatus !== undefined ? { upstreamStatus: failure.upstreamStatus } : {}),
  });
}
