/**
 * On-chain verification of an EVM ERC-20 payment proof (§7.6, `verificationMode = "rpc"`). The inputs
 * are the proof's fields after the defaults of §7.5.5; the reuse check (§7.5.5 step 8) has passed.
 */
export type Erc20TransferProof = {
  /** The first set of PEAQOS_PAYMENT_RPC_URL, PEAQ_EVM_RPC_URL, PEAQOS_EVM_RPC_URL; none → `rpc_required`. */
  rpcUrl: string | undefined;
  /** The chain the RPC must report (eth_chainId), else `chain_mismatch`. */
  chainId: number;
  /** `0x` + 64 hex. */
  txHash: string;
  /** `0x` + 40 hex (any case). */
  tokenAddress: string;
  /** The token's decimals (`tokenDecimals`, 0..36). */
  decimals: number;
  fromAddress: string;
  toAddress: string;
  /** Decimal string in human units (§0.6) with at most `decimals` fractional digits. */
  amount: string;
  /** PEAQOS_PAYMENT_MIN_CONFIRMATIONS (an integer >= 1; anything else is a programming error and throws). */
  minConfirmations: number;
};

export type VerifiedErc20Transfer = {
  /** The receipt's block. */
  blockNumber: number;
  blockHash: string | null;
  /** `eth_blockNumber − blockNumber + 1`, at verification time. */
  confirmations: number;
  /** `amount × 10^decimals`, as a decimal integer string. */
  rawAmount: string;
  /** Position of the matching Transfer log in its block. */
  logIndex: number | null;
};

/** The JSON-RPC methods §7.6 calls, in order. */
export type PaymentRpcMethod = 'eth_chainId' | 'eth_getTransactionReceipt' | 'eth_blockNumber';

/**
 * Why a call failed (`details.reason` of PAYMENT_RPC_ERROR): no answer in time; no HTTP exchange
 * (refused, reset, DNS); a non-2xx HTTP status; a JSON-RPC `error` member; a 2xx answer that is not
 * JSON-RPC or whose `result` does not have the expected shape.
 */
export type PaymentRpcErrorReason = 'timeout' | 'network' | 'http_status' | 'rpc_error' | 'malformed_result';

/** One failure per error of §7.6, in its order; mapped to API errors by `paymentFailureError`. */
export type PaymentFailure =
  /** An input the handler should already have rejected (§7.5.5 step 7); checked before any RPC call. */
  | { kind: 'invalid_input'; field: PaymentProofField; reason?: 'amount_precision'; message: string }
  /** Step 1: no RPC URL → 503 PAYMENT_RPC_REQUIRED. */
  | { kind: 'rpc_required' }
  /** Step 1: → 502 PAYMENT_RPC_ERROR. */
  | { kind: 'rpc_error'; method: PaymentRpcMethod; reason: PaymentRpcErrorReason; httpStatus?: number; rpcCode?: number }
  /** Step 2: → 400 VALIDATION_ERROR `chain_mismatch`. */
  | { kind: 'chain_mismatch'; expected: number; actual: string }
  /** Step 3 (no receipt: confirmations 0) and step 6 → 409 PAYMENT_NOT_MINED. */
  | { kind: 'not_mined'; confirmations: number; required: number }
  /** Step 4 → 402 PAYMENT_TX_FAILED; `status` is the receipt's raw value (`"0x0"`), or null when absent. */
  | { kind: 'tx_failed'; txHash: string; status: string | null }
  /** Step 5 → 400 PAYMENT_TRANSFER_NOT_FOUND; `rawAmount` as a decimal string. */
  | { kind: 'transfer_not_found'; tokenAddress: string; fromAddress: string; toAddress: string; rawAmount: string };

/** Request fields (JSON Pointer names of the payment-proof body) an `invalid_input` failure refers to. */
export type PaymentProofField = 'chainId' | 'txHash' | 'tokenAddress' | 'tokenDecimals' | 'fromAddress' | 'toAddress' | 'amount';

export type PaymentVerification = { ok: true; value: VerifiedErc20Transfer } | { ok: false; failure: PaymentFailure };

export interface PaymentVerifier {
  /** Never throws for RPC or request-input problems: every §7.6 outcome is a `PaymentFailure`. */
  verifyErc20Transfer(proof: Erc20TransferProof): Promise<PaymentVerification>;
}
export const PAYMENT_VERIFIER = Symbol('PaymentVerifier');
