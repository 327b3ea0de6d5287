import {
  ExecutionMode,
  ExternalHandoff,
  IntegrationStatus,
  MarketPaymentRailRecommendation,
  MarketPaymentRailType,
  ServiceType,
} from '../catalog/catalog-types';
import { MarketOrderStatus } from './order-status';
import { MarketPaymentStatus } from './payment-status';

export type { MarketOrderStatus } from './order-status';
export type { MarketPaymentStatus } from './payment-status';

/** §7.2 `MarketOrderRecord["budget"]`: always present, `null` when the request had none. */
export type MarketOrderBudget = { amount: number | null; currency: string | null } | null;

/** §7.2 `MarketOrderRecord["dispute"]`. */
export type MarketOrderDispute = { reason: string; evidence: Record<string, unknown> | null; openedAt: string };

/** §7.2 `MarketOrderRecord`, exactly as the API returns it. */
export type MarketOrderRecord = {
  id: string;
  machineId: string;
  agentPairingId: string;
  searchId: string | null;
  quoteId: string | null;
  serviceId: string;
  skillKey: string;
  providerKey: string;
  serviceType: ServiceType;
  operation: string;
  executionMode: ExecutionMode;
  integrationStatus: IntegrationStatus;
  status: MarketOrderStatus;
  /** Redacted (§9). */
  input: Record<string, unknown>;
  budget: MarketOrderBudget;
  payment: MarketPaymentRailRecommendation;
  serviceSnapshot: Record<string, unknown>;
  taskId: string | null;
  routeId: string | null;
  runId: string | null;
  outcomeId: string | null;
  handoff: ExternalHandoff | null;
  errorMessage: string | null;
  paymentId: string | null;
  deliveredAt: string | null;
  confirmedAt: string | null;
  disputedAt: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
  dispute: MarketOrderDispute | null;
  createdAt: string;
  updatedAt: string;
};

export type PaymentNetwork = 'evm' | 'solana';

/** §7.2 `MarketPaymentChallenge`: the provider's x402 challenge, stored as received (§9). */
export type MarketPaymentChallenge = {
  protocol: 'x402';
  httpStatus: number;
  paymentRequired: unknown;
  headers: Record<string, string>;
  fetchedAt: string;
};

/** §7.2 `MarketPaymentProof["settlement"]`: the x402 settlement reported by the provider. */
export type PaymentSettlement = { txHash: string | null; network: string | null };

/** §7.2 `MarketPaymentProof`. Raw payment headers never appear: only their fingerprint (§9). */
export type MarketPaymentProof = {
  verificationMode: 'recorded' | 'rpc';
  network: PaymentNetwork;
  txHash: string | null;
  chainId: number | null;
  tokenAddress: string | null;
  tokenDecimals: number | null;
  amount: string | null;
  fromAddress: string | null;
  toAddress: string | null;
  blockNumber: number | null;
  confirmations: number | null;
  paymentHeadersFingerprint: string | null;
  settlement: PaymentSettlement | null;
  recordedAt: string;
};

/** §7.2 `MarketEscrowLock`. */
export type MarketEscrowLock = {
  txHash: string | null;
  escrowAddress: string | null;
  chainId: number | null;
  amount: string | null;
  lockedAt: string;
};

/** §7.2 `MarketPaymentRecord`, exactly as the API returns it. */
export type MarketPaymentRecord = {
  id: string;
  orderId: string;
  machineId: string;
  type: MarketPaymentRailType;
  status: MarketPaymentStatus;
  required: boolean;
  amount: string | null;
  currency: string | null;
  network: PaymentNetwork | null;
  chainId: number | null;
  tokenAddress: string | null;
  tokenDecimals: number | null;
  payerAddress: string | null;
  payTo: string | null;
  challenge: MarketPaymentChallenge | null;
  proof: MarketPaymentProof | null;
  escrow: MarketEscrowLock | null;
  refundReason: string | null;
  heldAt: string | null;
  releasePendingAt: string | null;
  releasedAt: string | null;
  frozenAt: string | null;
  refundedAt: string | null;
  createdAt: string;
  updatedAt: string;
};

/**
 * The payment-side knobs of the server configuration (§2.2) a decision needs, passed in by the handler
 * (the members are named as in the application config).
 */
export type OrderPaymentSettings = {
  /** `PEAQOS_CHAIN_ID`. */
  chainId: number;
  /** `PEAQOS_USDT_CONTRACT`, or null. */
  usdtContract: string | null;
  /** `PEAQOS_USDT_DECIMALS`. */
  usdtDecimals: number;
  /** `PEAQOS_ENFORCE_SERVICE_PAYMENT_RAILS`. */
  enforceServicePaymentRails: boolean;
  /** `PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION`. */
  requirePaymentRpcVerification: boolean;
  /** `PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE`. */
  requirePaymentBeforeExecute: boolean;
};

/** An existing order with its payment record (at most one, §7.1). */
export type OrderRecords = { order: MarketOrderRecord; payment: MarketPaymentRecord | null };
