import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  registerDecorator,
  ValidateNested,
} from 'class-validator';
import { CATALOGUE_KEY, SERVICE_TYPES, ServiceType } from '../../domain/catalog/catalog-types';
import { IsProviderCredentials } from '../validation/provider-credentials';

const CURRENCY = /^[A-Za-z0-9]{2,16}$/;

export class SearchRequirementsDto {
  /** §6.4.1: only lengths are ruled (unlike machine capabilities, §4.1). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 100, { each: true })
  capabilities?: string[];
}

export class SearchBudgetDto {
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  amount?: number;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  maxAmount?: number;

  @IsOptional()
  @Matches(CURRENCY, { message: 'currency must be 2–16 characters of [A-Za-z0-9]' })
  currency?: string;
}

export class SearchPreferencesDto {
  @IsOptional()
  @IsBoolean()
  nativeOnly?: boolean;

  @IsOptional()
  @IsBoolean()
  allowExternalHandoff?: boolean;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsCatalogueKeyIgnoringCase({ each: true })
  preferredProviderKeys?: string[];
}

/** §6.4.1 `MarketSearchRequest`. */
export class MarketSearchDto {
  @IsString()
  machineId!: string;

  @IsOptional()
  @IsString()
  agentPairingId?: string;

  @IsOptional()
  @IsIn(SERVICE_TYPES)
  serviceType?: ServiceType;

  /** Any string: a key that names no skill is 404 (§6.4.3, §10.1 item 38), not a validation error. */
  @IsOptional()
  @IsString()
  skillKey?: string;

  @IsOptional()
  @IsString()
  @Length(1, 128)
  operation?: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SearchRequirementsDto)
  requirements?: SearchRequirementsDto;

  @IsOptional()
  @IsString()
  @Length(1, 64)
  region?: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SearchBudgetDto)
  budget?: SearchBudgetDto;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SearchPreferencesDto)
  preferences?: SearchPreferencesDto;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  maxResults?: number;

  @IsOptional()
  @IsProviderCredentials()
  providerCredentials?: Record<string, Record<string, string>>;
}

/** A catalogue key once lower-cased (§0.5: provider keys are lower-cased before use). */
function IsCatalogueKeyIgnoringCase(options: { each?: boolean } = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCatalogueKeyIgnoringCase',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: '$property entries must be catalogue keys', ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && CATALOGUE_KEY.test(value.toLowerCase()) },
    });
}
