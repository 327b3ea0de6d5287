import { compareDecimals, isDecimalString } from '../shared/decimal';
import { validationError, ValidationIssue } from '../shared/domain-error';
import {
  MarketEscrowLock,
  MarketPaymentProof,
  MarketPaymentRecord,
  OrderPaymentSettings,
  OrderRecords,
  PaymentNetwork,
} from './market-order-types';
import { assertOrderOpen, invalidBody, paymentConflict, requirePayment } from './order-errors';
import { fractionDigits, parseAddress, parseEvmAddress, parseEvmTxHash, isSolanaTxHash, sameAddress } from './payment-formats';
import { PaymentHeadersFacts } from './payment-headers';

/** §7.5.5 request (both shapes), with the payment headers reduced to their facts (§9). */
export type PaymentProofRequest = {
  verificationMode?: 'recorded' | 'rpc';
  network?: PaymentNetwork;
  txHash?: string;
  chainId?: number;
  tokenAddress?: string;
  tokenDecimals?: number;
  /** Decimal string, human units. */
  amount?: string;
  fromAddress?: string;
  toAddress?: string;
  paymentHeaders?: PaymentHeadersFacts | null;
};

/** The key of the payment reuse index (§7.5.5 step 8): one order per on-chain transaction. */
export type PaymentTxKey = { network: 'evm'; chainId: number; txHash: string } | { network: 'solana'; txHash: string };

/** A proof that passed §7.5.5 steps 2–7, before reuse (step 8) and RPC verification (step 9). */
export type ProofToRecord = Omit<MarketPaymentProof, 'blockNumber' | 'confirmations' | 'settlement' | 'recordedAt'>;

/**
 * What a payment-proof request will do:
 * - `existing`: step 4, the same proof is already held; answer `200` with the record unchanged;
 * - `record`: steps 2–7 passed. The handler checks `txKey` and `fingerprint` against the reuse index
 *   (step 8) and, in `rpc` mode, verifies `proof` on chain (step 9, §7.6) before deciding.
 */
export type PreparedPaymentProof =
  | { action: 'existing'; payment: MarketPaymentRecord }
  | { action: 'record'; payment: MarketPaymentRecord; proof: ProofToRecord; txKey: PaymentTxKey | null; fingerprint: string | null };

export function preparePaymentProof(
  { order, payment: record }: OrderRecords,
  request: PaymentProofRequest,
  settings: OrderPaymentSettings,
): PreparedPaymentProof {
  // Steps 2 and 3.
  assertOrderOpen(order);
  const payment = requirePayment(order, record);
  const fingerprint = request.paymentHeaders?.fingerprint ?? null;

  // Step 4.
  if (payment.status === 'held') {
    if (isSameProof(payment, request, fingerprint, settings)) return { action: 'existing', payment };
    throw paymentConflict(payment, 'payment_already_held');
  }
  if (payment.status !== 'intent_created') throw paymentConflict(payment, 'payment_not_pending');

  // Step 5.
  const recordNetwork: PaymentNetwork = payment.network ?? 'evm';
  const network = request.network ?? recordNetwork;
  if (network !== recordNetwork) {
    throw invalidBody('/network', `The payment is on ${recordNetwork}, not ${network}`, 'network_mismatch');
  }

  // Step 6.
  const headerProof = payment.type === 'x402';
  let verificationMode: 'recorded' | 'rpc';
  if (network === 'solana') {
    if (request.verificationMode === 'rpc') {
      throw invalidBody('/verificationMode', 'Solana payments are always recorded', 'rpc_not_supported_for_solana');
    }
    verificationMode = 'recorded';
  } else if (headerProof) {
    if (request.verificationMode === 'rpc') {
      throw invalidBody('/verificationMode', 'x402 header proofs are always recorded', 'rpc_not_supported_for_rail');
    }
    verificationMode = 'recorded';
  } else {
    verificationMode = settings.requirePaymentRpcVerification ? 'rpc' : (request.verificationMode ?? 'recorded');
  }

  // Step 7: presence, then formats.
  if (headerProof) {
    if (request.paymentHeaders?.hasPayment !== true) {
      throw invalidBody(
        '/paymentHeaders',
        'paymentHeaders.xPayment or paymentHeaders.paymentSignature is required',
        'payment_header_required',
      );
    }
  } else {
    const missing: ValidationIssue[] = (['txHash', 'amount', 'fromAddress', 'toAddress'] as const)
      .filter((member) => request[member] === undefined)
      .map((member) => ({ location: 'body', path: `/${member}`, message: `${member} is required` }));
    if (missing.length > 0) throw validationError(missing);
  }
  const txHash = request.txHash === undefined ? null : parseTxHash(network, request.txHash);
  const fromAddress = request.fromAddress === undefined ? null : addressOrThrow(network, request.fromAddress, '/fromAddress');
  const toAddress = request.toAddress === undefined ? null : addressOrThrow(network, request.toAddress, '/toAddress');
  if (request.amount !== undefined && !isDecimalString(request.amount)) {
    throw invalidBody('/amount', 'amount must be a decimal string');
  }

  // Step 7: network defaults.
  let chainId: number | null = null;
  let tokenAddress: string | null;
  let tokenDecimals: number | null;
  if (network === 'solana') {
    if (request.chainId !== undefined) throw invalidBody('/chainId', 'chainId is not allowed for Solana payments', 'invalid_chain_id');
    tokenAddress = request.tokenAddress ?? payment.tokenAddress;
    tokenDecimals = request.tokenDecimals ?? payment.tokenDecimals;
  } else {
    if (payment.chainId !== null && request.chainId !== undefined && request.chainId !== payment.chainId) {
      throw invalidBody('/chainId', `The payment is on chain ${payment.chainId}, not ${request.chainId}`, 'chain_mismatch');
    }
    chainId = request.chainId ?? payment.chainId ?? settings.chainId;
    tokenAddress =
      request.tokenAddress !== undefined
        ? addressOrThrow('evm', request.tokenAddress, '/tokenAddress')
        : (payment.tokenAddress ??
          (chainId === settings.chainId && settings.usdtContract !== null ? parseEvmAddress(settings.usdtContract) : null));
    tokenDecimals = request.tokenDecimals ?? payment.tokenDecimals ?? settings.usdtDecimals;
  }

  // Step 7: amount, payee, payer, token.
  const amount = request.amount ?? null;
  if (amount !== null) {
    if (tokenDecimals !== null && fractionDigits(amount) > tokenDecimals) {
      throw invalidBody('/amount', `amount has more than ${tokenDecimals} fractional digits`, 'amount_precision');
    }
    if (payment.amount !== null && compareDecimals(amount, payment.amount) < 0) {
      throw invalidBody('/amount', `amount ${amount} is below the expected ${payment.amount}`, 'amount_below_expected');
    }
  }
  if (toAddress !== null && payment.payTo !== null && !sameAddress(network, toAddress, payment.payTo)) {
    throw invalidBody('/toAddress', `toAddress is not the payee ${payment.payTo}`, 'recipient_mismatch');
  }
  if (fromAddress !== null && payment.payerAddress !== null && !sameAddress(network, fromAddress, payment.payerAddress)) {
    throw invalidBody('/fromAddress', `fromAddress is not the payer ${payment.payerAddress}`, 'payer_mismatch');
  }
  if (verificationMode === 'rpc' && tokenAddress === null) {
    throw invalidBody('/tokenAddress', 'RPC verification needs a tokenAddress', 'token_address_required');
  }

  return {
    action: 'record',
    payment,
    proof: {
      verificationMode,
      network,
      txHash,
      chainId,
      tokenAddress,
      tokenDecimals,
      amount,
      fromAddress,
      toAddress,
      paymentHeadersFingerprint: fingerprint,
    },
    txKey: txKeyOf(network, chainId, txHash),
    fingerprint,
  };
}

/** §7.5.5 step 4: the same network, `chainId` and `txHash`, or the same header fingerprint. */
function isSameProof(
  payment: MarketPaymentRecord,
  request: PaymentProofRequest,
  fingerprint: string | null,
  settings: OrderPaymentSettings,
) {
  const proof = payment.proof;
  if (proof === null) return false;
  if (fingerprint !== null && proof.paymentHeadersFingerprint === fingerprint) return true;
  if (request.txHash === undefined || proof.txHash === null) return false;
  const network = request.network ?? payment.network ?? 'evm';
  const chainId = network === 'evm' ? (request.chainId ?? payment.chainId ?? settings.chainId) : null;
  const txHash = network === 'evm' ? request.txHash.toLowerCase() : request.txHash;
  return proof.network === network && proof.chainId === chainId && proof.txHash === txHash;
}

function parseTxHash(network: PaymentNetwork, raw: string): string {
  if (network === 'evm') {
    const txHash = parseEvmTxHash(raw);
    if (txHash === null) throw invalidBody('/txHash', 'txHash must be 0x followed by 64 hex digits');
    return txHash;
  }
  if (!isSolanaTxHash(raw)) throw invalidBody('/txHash', 'txHash must be a base58 Solana signature of 64–88 characters');
  return raw;
}

function addressOrThrow(network: PaymentNetwork, raw: string, path: string): string {
  const address = parseAddress(network, raw);
  if (address === null) throw invalidBody(path, `${path.slice(1)} is not a valid ${network} address`, 'invalid_address');
  return address;
}

export function txKeyOf(network: PaymentNetwork, chainId: number | null, txHash: string | null): PaymentTxKey | null {
  if (txHash === null) return null;
  if (network === 'solana') return { network, txHash };
  if (chainId === null) throw new TypeError('An EVM transaction key needs a chainId');
  return { network, chainId, txHash };
}

// ---------------------------------------------------------------------------------------------------
// §7.5.7 escrow lock
// ---------------------------------------------------------------------------------------------------

/** §7.5.7 request. */
export type EscrowLockRequest = { txHash?: string; escrowAddress?: string; chainId?: number; amount?: string };

export type PreparedEscrowLock =
  | { action: 'existing'; payment: MarketPaymentRecord }
  | { action: 'record'; payment: MarketPaymentRecord; escrow: Omit<MarketEscrowLock, 'lockedAt'>; txKey: PaymentTxKey | null };

/**
 * §7.5.7 steps 2–6. The handler checks `txKey` against the reuse index (step 7) before deciding.
 */
export function prepareEscrowLock(
  { order, payment: record }: OrderRecords,
  request: EscrowLockRequest,
  settings: OrderPaymentSettings,
): PreparedEscrowLock {
  // Steps 2–4.
  assertOrderOpen(order);
  const payment = requirePayment(order, record);
  if (payment.type !== 'escrow' && payment.type !== 'onchain-escrow') {
    throw invalidBody('', `Payment ${payment.id} uses rail ${payment.type}, not an escrow rail`, 'rail_mismatch');
  }
  // Step 5.
  if (payment.status === 'held') return { action: 'existing', payment };
  if (payment.status !== 'intent_created') throw paymentConflict(payment, 'payment_not_pending');

  // Step 6.
  if (payment.type === 'onchain-escrow') {
    const missing: ValidationIssue[] = (['txHash', 'escrowAddress'] as const)
      .filter((member) => request[member] === undefined)
      .map((member) => ({ location: 'body', path: `/${member}`, message: `${member} is required for onchain-escrow` }));
    if (missing.length > 0) throw validationError(missing);
  }
  const txHash = request.txHash === undefined ? null : parseTxHash('evm', request.txHash);
  const escrowAddress = request.escrowAddress === undefined ? null : addressOrThrow('evm', request.escrowAddress, '/escrowAddress');
  const chainId = request.chainId ?? payment.chainId ?? settings.chainId;
  const amount = request.amount ?? null;
  if (amount !== null) {
    if (!isDecimalString(amount)) throw invalidBody('/amount', 'amount must be a decimal string');
    if (payment.amount !== null && compareDecimals(amount, payment.amount) < 0) {
      throw invalidBody('/amount', `amount ${amount} is below the expected ${payment.amount}`, 'amount_below_expected');
    }
  }
  return { action: 'record', payment, escrow: { txHash, escrowAddress, chainId, amount }, txKey: txKeyOf('evm', chainId, txHash) };
}
