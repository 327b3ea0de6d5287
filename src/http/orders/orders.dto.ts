import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { MarketPaymentRailType, PAYMENT_RAIL_TYPES } from '../../domain/catalog/catalog-types';
import { MARKET_ORDER_STATUSES, MarketOrderStatus } from '../../domain/order/order-status';
import { ListQueryDto } from '../pagination/list-query.dto';
import { MaxCanonicalJsonBytes } from '../validation/canonical-size';
import { IsProviderCredentials } from '../validation/provider-credentials';
import { IsText } from '../validation/text-rules';

/** §7.5.2, §7.5.10, §7.5.12: free-form objects are at most 64 KiB as canonical JSON. */
const FREE_FORM_LIMIT_BYTES = 64 * 1024;

export class OrderIdParam {
  @IsString()
  orderId!: string;
}

export class OrderBudgetDto {
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  amount?: number | null;

  @IsOptional()
  @Matches(/^[A-Za-z0-9]{2,16}$/, { message: 'currency must be 2–16 characters of [A-Za-z0-9]' })
  currency?: string | null;
}

/** §7.5.2 `CreateMarketOrderRequest`; the reasons of step 1 are the handler's. */
export class CreateOrderDto {
  @IsString()
  machineId!: string;

  @IsOptional()
  @IsString()
  agentPairingId?: string;

  @IsOptional()
  @IsString()
  serviceId?: string;

  @IsOptional()
  @IsString()
  searchId?: string;

  @IsOptional()
  @IsString()
  quoteId?: string;

  @IsOptional()
  @IsString()
  @Length(1, 128)
  operation?: string;

  /** Free-form (checked against the operation contract); at most 64 KiB as canonical JSON. */
  @IsOptional()
  @IsObject()
  @MaxCanonicalJsonBytes(FREE_FORM_LIMIT_BYTES)
  input?: Record<string, unknown>;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OrderBudgetDto)
  budget?: OrderBudgetDto;
}

/** §7.5.1 query. */
export class ListOrdersQuery extends ListQueryDto {
  @IsString()
  machineId!: string;

  @IsOptional()
  @IsIn(MARKET_ORDER_STATUSES)
  status?: MarketOrderStatus;

  @IsOptional()
  @IsString()
  agentPairingId?: string;
}

/** §7.5.12 `DisputeMarketOrderRequest`. */
export class DisputeOrderDto {
  @IsString()
  @Length(1, 2000)
  reason!: string;

  /** At most 64 KiB as canonical JSON; secret-named members are redacted before storage (§9). */
  @IsOptional()
  @IsObject()
  @MaxCanonicalJsonBytes(FREE_FORM_LIMIT_BYTES)
  evidence?: Record<string, unknown>;
}

/** §7.5.13 `CancelMarketOrderRequest`. */
export class CancelOrderDto {
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  reason?: string;
}

/**
 * §0.7 `PaymentHeaders`: each a non-empty string of at most 16,384 characters without control
 * characters; secrets, fingerprinted and forwarded, never stored (§9).
 */
export class PaymentHeadersDto {
  @IsOptional()
  @IsText({ min: 1, max: 16384 })
  xPayment?: string;

  @IsOptional()
  @IsText({ min: 1, max: 16384 })
  paymentSignature?: string;

  @IsOptional()
  @IsText({ min: 1, max: 16384 })
  authorization?: string;

  @IsOptional()
  @IsText({ min: 1, max: 16384 })
  signInWithX?: string;
}

/** §7.5.10 `ExecuteMarketOrderRequest`: credentials and payment headers are forwarded, never stored (§9). */
export class ExecuteOrderDto {
  /** Replaces the order's input for this execution; checked against the operation contract; at most 64 KiB. */
  @IsOptional()
  @IsObject()
  @MaxCanonicalJsonBytes(FREE_FORM_LIMIT_BYTES)
  input?: Record<string, unknown>;

  @IsOptional()
  @IsProviderCredentials()
  providerCredentials?: Record<string, Record<string, string | null>>;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => PaymentHeadersDto)
  paymentHeaders?: PaymentHeadersDto;
}

/** The chain and token members and the payment headers that intents and proofs share (§7.5.4, §7.5.5). */
class PaymentParametersDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  chainId?: number;

  @IsOptional()
  @IsString()
  tokenAddress?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(36)
  tokenDecimals?: number;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => PaymentHeadersDto)
  paymentHeaders?: PaymentHeadersDto;
}

/** §7.5.4 `CreatePaymentIntentRequest`; address and chain formats are the decider's (reasons of step 6). */
export class PaymentIntentDto extends PaymentParametersDto {
  @IsOptional()
  @IsIn(PAYMENT_RAIL_TYPES)
  rail?: MarketPaymentRailType;

  @IsOptional()
  @IsString()
  payerAddress?: string;
}

export class PaymentIntentQuery {
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'refreshChallenge must be true or false' })
  refreshChallenge?: 'true' | 'false';
}

/** §7.5.5 transfer and header proofs; which members are required depends on the rail (the decider's step 7). */
export class PaymentProofDto extends PaymentParametersDto {
  @IsOptional()
  @IsIn(['recorded', 'rpc'])
  verificationMode?: 'recorded' | 'rpc';

  @IsOptional()
  @IsIn(['evm', 'solana'])
  network?: 'evm' | 'solana';

  @IsOptional()
  @IsString()
  txHash?: string;

  @IsOptional()
  @IsString()
  amount?: string;

  @IsOptional()
  @IsString()
  fromAddress?: string;

  @IsOptional()
  @IsString()
  toAddress?: string;
}

/** §7.5.7 `EscrowLockRequest`. */
export class EscrowLockDto {
  @IsOptional()
  @IsString()
  txHash?: string;

  @IsOptional()
  @IsString()
  escrowAddress?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  chainId?: number;

  @IsOptional()
  @IsString()
  amount?: string;
}

/** §7.5.9 `RefundPaymentRequest`. */
export class RefundPaymentDto {
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  reason?: string;
}
