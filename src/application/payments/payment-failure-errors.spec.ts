import { DomainError } from '../../domain/shared/domain-error';
import { ERROR_STATUS } from '../../http/errors/error-response';
import { PaymentFailure } from '../ports/payment-verifier.port';
import { paymentFailureError } from './payment-failure-errors';

function shape(error: DomainError) {
  expect(error).toBeInstanceOf(DomainError);
  expect(error.message).not.toBe('');
  return { code: error.code, status: ERROR_STATUS[error.code], details: error.details };
}

const TX = `0x${'ab'.repeat(32)}`;
const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const FROM = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const TO = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

describe('§7.6 failures as API errors (§0.9)', () => {
  it('maps a missing RPC URL to 503 PAYMENT_RPC_REQUIRED without details', () => {
    expect(shape(paymentFailureError({ kind: 'rpc_required' }))).toEqual({ code: 'PAYMENT_RPC_REQUIRED', status: 503, details: undefined });
  });

  it.each(['timeout', 'network', 'http_status', 'rpc_error', 'malformed_result'] as const)(
    'maps an RPC failure (%s) to 502 PAYMENT_RPC_ERROR {method, reason} only',
    (reason) => {
      const failure: PaymentFailure = { kind: 'rpc_error', method: 'eth_getTransactionReceipt', reason, httpStatus: 500, rpcCode: -32000 };
      expect(shape(paymentFailureError(failure))).toEqual({
        code: 'PAYMENT_RPC_ERROR',
        status: 502,
        details: { method: 'eth_getTransactionReceipt', reason },
      });
    },
  );

  it('keeps the HTTP status or JSON-RPC code of an RPC failure in the message', () => {
    expect(paymentFailureError({ kind: 'rpc_error', method: 'eth_chainId', reason: 'http_status', httpStatus: 503 }).message).toContain(
      '503',
    );
    expect(paymentFailureError({ kind: 'rpc_error', method: 'eth_chainId', reason: 'rpc_error', rpcCode: -32005 }).message).toContain(
      '-32005',
    );
  });

  it('maps a chain mismatch to 400 VALIDATION_ERROR chain_mismatch with expected and actual in the message', () => {
    const error = paymentFailureError({ kind: 'chain_mismatch', expected: 3338, actual: '31337' });
    expect(shape(error)).toEqual({
      code: 'VALIDATION_ERROR',
      status: 400,
      details: { reason: 'chain_mismatch', errors: [{ location: 'body', path: '/chainId', message: expect.stringContaining('31337') }] },
    });
    expect(error.message).toMatch(/expected 3338.*actual 31337/);
  });

  it.each([
    [0, 1],
    [2, 3],
  ])('maps %d of %d confirmations to 409 PAYMENT_NOT_MINED', (confirmations, required) => {
    expect(shape(paymentFailureError({ kind: 'not_mined', confirmations, required }))).toEqual({
      code: 'PAYMENT_NOT_MINED',
      status: 409,
      details: { confirmations, required },
    });
  });

  it('maps a failed transaction to 402 PAYMENT_TX_FAILED {txHash, status}', () => {
    expect(shape(paymentFailureError({ kind: 'tx_failed', txHash: TX, status: '0x0' }))).toEqual({
      code: 'PAYMENT_TX_FAILED',
      status: 402,
      details: { txHash: TX, status: '0x0' },
    });
  });

  it('maps a missing Transfer to 400 PAYMENT_TRANSFER_NOT_FOUND {tokenAddress, fromAddress, toAddress, rawAmount}', () => {
    const failure: PaymentFailure = {
      kind: 'transfer_not_found',
      tokenAddress: TOKEN,
      fromAddress: FROM,
      toAddress: TO,
      rawAmount: '10500000',
    };
    expect(shape(paymentFailureError(failure))).toEqual({
      code: 'PAYMENT_TRANSFER_NOT_FOUND',
      status: 400,
      details: { tokenAddress: TOKEN, fromAddress: FROM, toAddress: TO, rawAmount: '10500000' },
    });
  });

  it('maps invalid inputs to 400 VALIDATION_ERROR at the body field, with amount_precision when so', () => {
    expect(
      shape(paymentFailureError({ kind: 'invalid_input', field: 'amount', reason: 'amount_precision', message: 'too precise' })),
    ).toEqual({
      code: 'VALIDATION_ERROR',
      status: 400,
      details: { reason: 'amount_precision', errors: [{ location: 'body', path: '/amount', message: 'too precise' }] },
    });
    expect(shape(paymentFailureError({ kind: 'invalid_input', field: 'txHash', message: 'bad hash' }))).toEqual({
      code: 'VALIDATION_ERROR',
      status: 400,
      details: { errors: [{ location: 'body', path: '/txHash', message: 'bad hash' }] },
    });
  });
});
