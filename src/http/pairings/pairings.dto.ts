import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { CATALOGUE_KEY } from '../../domain/catalog/catalog-types';
import { PAIRING_STATUSES, PairingStatus } from '../../domain/pairing/pairing-status';
import { ListQueryDto } from '../pagination/list-query.dto';
import { IsText } from '../validation/text-rules';

/** §5.1: 1–64 characters, no control characters (they appear in the signed message). */
const AGENT_LABEL = { min: 1, max: 64 };
/** §5.1: at most 1,000 characters, no control characters other than `\n`. */
const DESCRIPTION = /^(?:[^\p{Cc}]|\n)*$/u;

export class PairingPathParams {
  @IsString()
  machineId!: string;

  @IsString()
  pairingId!: string;
}

export class AgentPairingProofDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  challengeId!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  signature!: string;
}

/** §5.1: an optional list of at most 200 catalogue keys, kept as given (order and duplicates). */
function CatalogueKeyList(): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    IsArray(),
    ArrayMaxSize(200),
    Matches(CATALOGUE_KEY, { each: true, message: '$property entries must be catalogue keys' }),
  );
}

/** §5.1 `DelegationPolicyInput`: `null` clears a limit or the currency (PATCH). */
export class DelegationPolicyDto {
  @CatalogueKeyList()
  allowedSkillKeys?: string[];

  @CatalogueKeyList()
  deniedSkillKeys?: string[];

  @CatalogueKeyList()
  allowedServiceIds?: string[];

  @CatalogueKeyList()
  deniedServiceIds?: string[];

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  perTransactionLimit?: number | null;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  dailySpendLimit?: number | null;

  @IsOptional()
  @Matches(/^[A-Za-z0-9]{2,16}$/, { message: 'currency must be 2–16 characters of [A-Za-z0-9]' })
  currency?: string | null;
}

/** §5.1 `CreateAgentPairingChallengeRequest`; `agentAddress` and `agentDid` forms are checked by the handler. */
export class CreatePairingChallengeDto {
  @IsString()
  agentAddress!: string;

  @IsText(AGENT_LABEL)
  agentProvider!: string;

  @IsText(AGENT_LABEL)
  agentRole!: string;

  @IsOptional()
  @IsString()
  agentDid?: string | null;
}

/** §5.1 `CreateAgentPairingRequest`. */
export class CreatePairingDto extends CreatePairingChallengeDto {
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @Matches(DESCRIPTION, { message: 'description must not contain control characters other than \\n' })
  description?: string | null;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DelegationPolicyDto)
  delegationPolicy?: DelegationPolicyDto;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AgentPairingProofDto)
  agentProof?: AgentPairingProofDto;
}

/** §5.1 `CreateAgentPairingSessionRequest`. */
export class CreatePairingSessionDto {
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AgentPairingProofDto)
  agentProof?: AgentPairingProofDto;
}

/** §5.1 `UpdateAgentPairingRequest`. */
export class UpdatePairingDto {
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DelegationPolicyDto)
  delegationPolicy?: DelegationPolicyDto;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @Matches(DESCRIPTION, { message: 'description must not contain control characters other than \\n' })
  description?: string | null;

  @IsOptional()
  @IsText(AGENT_LABEL)
  agentRole?: string;

  @IsOptional()
  @IsIn(['active', 'paused'], { message: 'status must be active or paused (revoke through the revoke endpoint)' })
  status?: 'active' | 'paused';
}

export class ListPairingsQuery extends ListQueryDto {
  @IsOptional()
  @IsIn(PAIRING_STATUSES)
  status?: PairingStatus;
}

export class RevokePairingQuery {
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'force must be true or false' })
  force?: 'true' | 'false';
}
