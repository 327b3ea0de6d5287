import {
  createPublicClient,
  getAddress,
  http,
  HttpRequestError,
  ResponseBodyTooLargeError,
  RpcRequestError,
  TimeoutError,
  type Hash,
} from 'viem';
import { MAX_TOKEN_DECIMALS, toRawAmount } from '../../application/payments/raw-amount';
import {
  Erc20TransferProof,
  PaymentFailure,
  PaymentProofField,
  PaymentRpcErrorReason,
  PaymentRpcMethod,
  PaymentVerification,
  PaymentVerifier,
} from '../../application/ports/payment-verifier.port';

export type ViemPaymentVerifierOptions = {
  /** Bound on each JSON-RPC call, body included (§7.6 step 1: 10 s). Lower only in tests. */
  callTimeoutMs?: number;
};

/** §7.6 step 5: keccak256("Transfer(address,address,uint256)"). */
export const ERC20_TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const DEFAULT_CALL_TIMEOUT_MS = 10_000;
const TX_HASH = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HEX_QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;
const HEX_DATA = /^0x(?:[0-9a-fA-F]{2})*$/;
const WORD = /^0x[0-9a-fA-F]{64}$/;

type Step<T> = { ok: true; value: T } | { ok: false; failure: PaymentFailure };
type Log = { address: string; topics: string[]; data: string; removed: boolean; logIndex: number | null };
type Receipt = { status: string | null; blockNumber: bigint | null; blockHash: string | null; logs: Log[] };

/**
 * PaymentVerifier over a JSON-RPC endpoint with viem's public client (HTTP transport), following §7.6
 * step by step: eth_chainId, eth_getTransactionReceipt, status, Transfer log, eth_blockNumber. Calls
 * are made raw (`client.request`) and their results validated here, so a malformed answer is
 * reported as such instead of being reshaped by viem's formatters; viem retries nothing
 * (`retryCount: 0`), and every call is bounded by `callTimeoutMs`, the response body included.
 */
export class ViemPaymentVerifier implements PaymentVerifier {
  private readonly callTimeoutMs: number;

  constructor(options: ViemPaymentVerifierOptions = {}) {
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    if (!Number.isInteger(this.callTimeoutMs) || this.callTimeoutMs <= 0) throw new RangeError('callTimeoutMs must be a positive integer');
  }

  async verifyErc20Transfer(proof: Erc20TransferProof): Promise<PaymentVerification> {
    if (!Number.isInteger(proof.minConfirmations) || proof.minConfirmations < 1) {
      throw new RangeError(`minConfirmations must be an integer >= 1: ${proof.minConfirmations}`);
    }
    // §7.5.5 step 7 has validated the request already; re-checked before any call, so nothing below
    // ever rounds an amount or matches a malformed address.
    const input = validateInput(proof);
    if (!input.ok) return input;
    const { txHash, tokenAddress, fromAddress, toAddress, rawAmount } = input.value;

    // Step 1. §2.1: an empty variable counts as unset.
    if (!proof.rpcUrl) return fail({ kind: 'rpc_required' });
    const client = createPublicClient({ transport: http(proof.rpcUrl, { retryCount: 0, timeout: this.callTimeoutMs, batch: false }) });
    const call = async <T>(method: PaymentRpcMethod, params: unknown[], parse: (result: unknown) => T | undefined): Promise<Step<T>> => {
      let result: unknown;
      try {
        result = await client.request({ method, params } as never, { retryCount: 0, dedupe: false });
      } catch (error) {
        return fail({ kind: 'rpc_error', method, ...classify(error) });
      }
      const parsed = parse(result);
      return parsed === undefined ? fail({ kind: 'rpc_error', method, reason: 'malformed_result' }) : { ok: true, value: parsed };
    };

    // Step 2.
    const chain = await call('eth_chainId', [], parseQuantity);
    if (!chain.ok) return chain;
    if (chain.value !== BigInt(proof.chainId)) {
      return fail({ kind: 'chain_mismatch', expected: proof.chainId, actual: chain.value.toString() });
    }

    // Step 3. A receipt without a block (a node that reports pending receipts) is not mined either.
    const fetched = await call('eth_getTransactionReceipt', [txHash], (result) => parseReceipt(result, txHash));
    if (!fetched.ok) return fetched;
    const receipt = fetched.value;
    if (receipt === null || receipt.blockNumber === null) {
      return fail({ kind: 'not_mined', confirmations: 0, required: proof.minConfirmations });
    }

    // Step 4.
    if (receipt.status !== '0x1') return fail({ kind: 'tx_failed', txHash, status: receipt.status });

    // Step 5.
    const fromTopic = addressTopic(fromAddress);
    const toTopic = addressTopic(toAddress);
    const match = receipt.logs.find(
      (log) =>
        log.removed !== true &&
        log.address.toLowerCase() === tokenAddress.toLowerCase() &&
        log.topics.length === 3 &&
        log.topics[0].toLowerCase() === ERC20_TRANSFER_TOPIC &&
        log.topics[1].toLowerCase() === fromTopic &&
        log.topics[2].toLowerCase() === toTopic &&
        log.data.length === 66 &&
        BigInt(log.data) === rawAmount,
    );
    if (!match) {
      return fail({ kind: 'transfer_not_found', tokenAddress, fromAddress, toAddress, rawAmount: rawAmount.toString() });
    }

    // Step 6. A head behind the receipt's block (a lagging node behind a load balancer) counts as 0.
    const head = await call('eth_blockNumber', [], parseQuantity);
    if (!head.ok) return head;
    const difference = head.value - receipt.blockNumber + 1n;
    const confirmations = difference > 0n ? Number(difference) : 0;
    if (confirmations < proof.minConfirmations) {
      return fail({ kind: 'not_mined', confirmations, required: proof.minConfirmations });
    }

    // Step 7.
    return {
      ok: true,
      value: {
        blockNumber: Number(receipt.blockNumber),
        blockHash: receipt.blockHash,
        confirmations,
        rawAmount: rawAmount.toString(),
        logIndex: match.logIndex,
      },
    };
  }
}

function fail(failure: PaymentFailure): { ok: false; failure: PaymentFailure } {
  return { ok: false, failure };
}

type ValidInput = { txHash: Hash; tokenAddress: string; fromAddress: string; toAddress: string; rawAmount: bigint };

function validateInput(proof: Erc20TransferProof): Step<ValidInput> {
  const invalid = (field: PaymentProofField, message: string, reason?: 'amount_precision') =>
    fail({ kind: 'invalid_input', field, message, ...(reason ? { reason } : {}) });
  if (!Number.isSafeInteger(proof.chainId) || proof.chainId < 1) return invalid('chainId', 'chainId must be a positive integer');
  if (typeof proof.txHash !== 'string' || !TX_HASH.test(proof.txHash))
    return invalid('txHash', 'txHash must be 0x followed by 64 hex digits');
  for (const field of ['tokenAddress', 'fromAddress', 'toAddress'] as const) {
    if (typeof proof[field] !== 'string' || !ADDRESS.test(proof[field]))
      return invalid(field, `${field} must be 0x followed by 40 hex digits`);
  }
  if (!Number.isInteger(proof.decimals) || proof.decimals < 0 || proof.decimals > MAX_TOKEN_DECIMALS) {
    return invalid('tokenDecimals', `tokenDecimals must be an integer in 0..${MAX_TOKEN_DECIMALS}`);
  }
  const raw = toRawAmount(proof.amount, proof.decimals);
  if (!raw.ok) {
    return raw.reason === 'amount_precision'
      ? invalid('amount', `amount has more than ${proof.decimals} fractional digits`, 'amount_precision')
      : invalid('amount', 'amount must be a decimal string');
  }
  return {
    ok: true,
    value: {
      txHash: proof.txHash.toLowerCase() as Hash,
      // Reported back in EIP-55, as §7.5.5 stores addresses.
      tokenAddress: getAddress(proof.tokenAddress.toLowerCase()),
      fromAddress: getAddress(proof.fromAddress.toLowerCase()),
      toAddress: getAddress(proof.toAddress.toLowerCase()),
      rawAmount: raw.raw,
    },
  };
}

/** The address left-padded to a 32-byte topic, lower-case. */
function addressTopic(address: string): string {
  return `0x${'0'.repeat(24)}${address.slice(2).toLowerCase()}`;
}

function parseQuantity(value: unknown): bigint | undefined {
  return typeof value === 'string' && HEX_QUANTITY.test(value) ? BigInt(value) : undefined;
}

/**
 * `null` (no receipt), a receipt, or undefined when the result is malformed: not an object; a
 * `transactionHash` other than the one asked for; a missing or non-hex `status`; a `blockNumber` that
 * is neither a quantity nor null; `logs` that are not an array of logs with an address, topics of 32
 * bytes and hex data.
 */
function parseReceipt(value: unknown, txHash: string): Receipt | null | undefined {
  if (value === null) return null;
  if (!isObject(value) || !Array.isArray(value.logs)) return undefined;
  if (
    value.transactionHash !== undefined &&
    (typeof value.transactionHash !== 'string' || value.transactionHash.toLowerCase() !== txHash)
  ) {
    return undefined;
  }
  if (typeof value.status !== 'string' || !HEX_QUANTITY.test(value.status)) return undefined;
  const blockNumber = value.blockNumber === null || value.blockNumber === undefined ? null : parseQuantity(value.blockNumber);
  if (blockNumber === undefined) return undefined;
  const blockHash = typeof value.blockHash === 'string' && WORD.test(value.blockHash) ? value.blockHash.toLowerCase() : null;
  const logs: Log[] = [];
  for (const entry of value.logs) {
    const log = parseLog(entry);
    if (!log) return undefined;
    logs.push(log);
  }
  return { status: value.status.toLowerCase(), blockNumber, blockHash, logs };
}

function parseLog(value: unknown): Log | undefined {
  if (!isObject(value)) return undefined;
  const { address, topics, data, removed, logIndex } = value;
  if (typeof address !== 'string' || !ADDRESS.test(address)) return undefined;
  if (!Array.isArray(topics) || !topics.every((topic): topic is string => typeof topic === 'string' && WORD.test(topic))) return undefined;
  if (typeof data !== 'string' || !HEX_DATA.test(data)) return undefined;
  if (removed !== undefined && removed !== null && typeof removed !== 'boolean') return undefined;
  const index = parseQuantity(logIndex);
  return { address, topics, data, removed: removed === true, logIndex: index === undefined ? null : Number(index) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * §7.6 step 1 sub-cases, from viem's error chain: its TimeoutError; a non-2xx status (an
 * HttpRequestError, or an RpcRequestError built from an error body of a non-2xx answer); a JSON-RPC
 * `error` member; an answer that is not JSON or too large; a request that never got an answer
 * (HttpRequestError caused by the fetch failure). Anything else went wrong while reading an answer
 * (e.g. a JSON `null` body): malformed.
 */
function classify(error: unknown): { reason: PaymentRpcErrorReason; httpStatus?: number; rpcCode?: number } {
  const chain = causes(error);
  if (chain.some((e) => e instanceof TimeoutError)) return { reason: 'timeout' };
  for (const e of chain) {
    if (
      (e instanceof HttpRequestError || e instanceof RpcRequestError) &&
      typeof e.status === 'number' &&
      (e.status < 200 || e.status > 299)
    ) {
      return { reason: 'http_status', httpStatus: e.status };
    }
  }
  const rpc = chain.find((e): e is RpcRequestError => e instanceof RpcRequestError);
  if (rpc) return typeof rpc.code === 'number' ? { reason: 'rpc_error', rpcCode: rpc.code } : { reason: 'rpc_error' };
  if (chain.some((e) => e instanceof SyntaxError || e instanceof ResponseBodyTooLargeError)) return { reason: 'malformed_result' };
  if (chain.some((e) => e instanceof HttpRequestError)) return { reason: 'network' };
  return { reason: 'malformed_result' };
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 16 && !chain.includes(current)) {
    chain.push(current);
    current = typeof current === 'object' && 'cause' in current ? (current as { cause?: unknown }).cause : undefined;
  }
  return chain;
}
