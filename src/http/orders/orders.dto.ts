import { Type } from 'class-transformer';
import { IsIn, IsNumber, IsObject, IsOptional, IsString, Length, Matches, Min, ValidateNested } from 'class-validator';
import { MARKET_ORDER_STATUSES, MarketOrderStatus } from '../../domain/order/order-status';
import { ListQueryDto } from '../pagination/list-query.dto';

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
  evidence?: Record<string, unknown>;
}

/** §7.5.13 `CancelMarketOrderRequest`. */
export class CancelOrderDto {
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  reason?: string;
}
