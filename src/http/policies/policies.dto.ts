import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Min,
  ValidateNested,
} from 'class-validator';
import { SERVICE_TYPES, ServiceType } from '../../domain/catalog/catalog-types';
import { IsText } from '../validation/text-rules';

/** §0.5 catalogue keys in any case: provider keys arriving in a body are lower-cased before use. */
const PROVIDER_KEY = /^[a-z0-9][a-z0-9._:-]{0,127}$/i;
/** §8.6: provider-key lists hold at most 200 keys. */
const MAX_PROVIDER_KEYS = 200;
const NAME = { min: 1, max: 100 };
/** §8.6: 0–1000 characters; no control characters other than `\n` (as pairing descriptions, §5.1). */
const DESCRIPTION = { min: 0, max: 1000, newlines: true };

/** `:policyId`: any string; an id that names no live policy (whatever its prefix) is 404 (§0.5). */
export class PolicyIdParam {
  @IsString()
  policyId!: string;
}

/**
 * §8.6 `Policy["rules"]` in a request. In a PATCH a member sent as `null` removes it; at creation a
 * `null` member is absent (§0.3).
 */
export class PolicyRulesDto {
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'maxOrderAmount must be a finite number' })
  @Min(0)
  maxOrderAmount?: number | null;

  @IsOptional()
  @Matches(/^[A-Za-z0-9]{2,16}$/, { message: 'currency must be 2–16 characters of [A-Za-z0-9]' })
  currency?: string | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_PROVIDER_KEYS)
  @Matches(PROVIDER_KEY, { each: true, message: 'allowedProviderKeys entries must be catalogue keys' })
  allowedProviderKeys?: string[] | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_PROVIDER_KEYS)
  @Matches(PROVIDER_KEY, { each: true, message: 'deniedProviderKeys entries must be catalogue keys' })
  deniedProviderKeys?: string[] | null;

  @IsOptional()
  @IsArray()
  // Only eight values exist; the bound only keeps absurd input out.
  @ArrayMaxSize(MAX_PROVIDER_KEYS)
  @IsIn(SERVICE_TYPES, { each: true, message: `allowedServiceTypes entries must be one of ${SERVICE_TYPES.join(', ')}` })
  allowedServiceTypes?: ServiceType[] | null;

  @IsOptional()
  @IsBoolean()
  requireNativeExecution?: boolean | null;
}

/** Members shared by create and update. */
class PolicyFieldsDto {
  @IsOptional()
  @IsText(DESCRIPTION)
  description?: string | null;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => PolicyRulesDto)
  rules?: PolicyRulesDto | null;
}

/** §8.6 `CreatePolicyRequest`. */
export class CreatePolicyDto extends PolicyFieldsDto {
  @IsText(NAME)
  name!: string;
}

/** §8.6 `UpdatePolicyRequest`. */
export class UpdatePolicyDto extends PolicyFieldsDto {
  @IsOptional()
  @IsText(NAME)
  name?: string | null;
}
