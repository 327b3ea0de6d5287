import { DomainError, validationError } from '../../domain/shared/domain-error';
import { PaymentFailure, PaymentRpcErrorReason } from '../ports/payment-verifier.port';

const RPC_REASON_MESSAGES: Record<PaymentRpcErrorReason, string> = {
  timeout: 'did not answer in time',
  network: 'could not be reached',
  http_status: 'answered with a non-2xx HTTP status',
  rpc_error: 'answered with a JSON-RPC error',
  malformed_result: 'answered with a malformed result',
};

/**
 * §7.6 failures as API errors (§0.9). `details` carry exactly the documented keys; the HTTP status or
 * JSON-RPC code of an RPC failure only appears in the message.
 */
export function paymentFailureError(failure: PaymentFailure): DomainError {
  switch (failure.kind) {
    case 'invalid_input':
      return validationError([{ location: 'body', path: `/${failure.field}`, message: failure.message }], failure.reason);
    case 'rpc_required':
      return new DomainError(
        'PAYMENT_RPC_REQUIRED',
        'RPC verification needs a payment RPC URL (PEAQOS_PAYMENT_RPC_URL) and none is configured',
      );
    case 'rpc_error': {
      const extra =
        failure.httpStatus !== undefined
          ? ` (HTTP ${failure.httpStatus})`
          : failure.rpcCode !== undefined
            ? ` (code ${failure.rpcCode})`
            : '';
      return new DomainError('PAYMENT_RPC_ERROR', `The payment RPC ${RPC_REASON_MESSAGES[failure.reason]}${extra} on ${failure.method}`, {
        method: failure.method,
        reason: failure.reason,
      });
    }
    case 'chain_mismatch': {
      const message = `The payment RPC is on chain ${failure.actual}, expected chain ${failure.expected}`;
      return validationError(
        [{ location: 'body', path: '/chainId', message }],
        'chain_mismatch',
        `Chain mismatch: expected ${failure.expected}, actual ${failure.actual}`,
      );
    }
    case 'not_mined':
      return new DomainError(
        'PAYMENT_NOT_MINED',
        failure.confirmations === 0
          ? 'The payment transaction is not mined yet'
          : `The payment transaction has ${failure.confirmations} of ${failure.required} required confirmations`,
        { confirmations: failure.confirmations, required: failure.required },
      );
    case 'tx_failed':
      return new DomainError(
        'PAYMENT_TX_FAILED',
        `The payment transaction ${failure.txHash} did not succeed (status ${failure.status ?? 'missing'})`,
        {
          txHash: failure.txHash,
          status: failure.status,
        },
      );
    case 'transfer_not_found':
      return new DomainError(
        'PAYMENT_TRANSFER_NOT_FOUND',
        'The payment transaction has no ERC-20 Transfer of that token, amount, sender and recipient',
        {
          tokenAddress: failure.tokenAddress,
          fromAddress: failure.fromAddress,
          toAddress: failure.toAddress,
          rawAmount: failure.rawAmount,
        },
      );
  }
}
