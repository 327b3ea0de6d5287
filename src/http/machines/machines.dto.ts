import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { MACHINE_STATUSES, MachineStatus } from '../../domain/machine/machine-status';
import { ListQueryDto } from '../pagination/list-query.dto';
import { IsStringMap, IsText } from '../validation/text-rules';

/** §4.1 field table. */
const NAME = { min: 1, max: 200, nonBlank: true };
const KIND = { min: 1, max: 100 };
const LABELS = { maxEntries: 64, key: /^[A-Za-z0-9][A-Za-z0-9._/-]*$/, keyMax: 63, valueMax: 256 };
/** Registry keys and ids are short; the bound only keeps absurd input out of lookups. */
const REFERENCE_MAX = 200;

/** `:machineId`: any string; an id that names no machine (whatever its prefix) is 404 (§0.5). */
export class MachineIdParam {
  @IsString()
  machineId!: string;
}

/** §4.1 `MachineIdentityProofInput`; the signature's format is checked by proof verification (§4.5.3 step 6). */
export class MachineIdentityProofDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(REFERENCE_MAX)
  challengeId!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  signature!: string;
}

/** Members shared by create and update (all optional in a PATCH). */
class MachineFieldsDto {
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsText(KIND, { each: true })
  capabilities?: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsText({ min: 1, max: REFERENCE_MAX }, { each: true })
  skillKeys?: string[];

  @IsOptional()
  @IsStringMap(LABELS)
  labels?: Record<string, string>;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @IsText({ min: 1, max: REFERENCE_MAX }, { each: true })
  policyIds?: string[];

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => MachineIdentityProofDto)
  identityProof?: MachineIdentityProofDto;
}

/** §4.1 `CreateMachineRequest`; the form of `identityRef` (§4.2) is checked by the handler. */
export class CreateMachineDto extends MachineFieldsDto {
  @IsText(NAME)
  displayName!: string;

  @IsText(NAME)
  ownerId!: string;

  @IsString()
  identityRef!: string;

  @IsText(KIND)
  machineType!: string;

  @IsText(KIND)
  runtimeProfile!: string;

  @IsOptional()
  @IsIn(['draft', 'active'])
  status?: 'draft' | 'active';
}

/** §4.1 `UpdateMachineRequest`. */
export class UpdateMachineDto extends MachineFieldsDto {
  @IsOptional()
  @IsText(NAME)
  displayName?: string;

  @IsOptional()
  @IsText(NAME)
  ownerId?: string;

  @IsOptional()
  @IsText(KIND)
  machineType?: string;

  @IsOptional()
  @IsText(KIND)
  runtimeProfile?: string;

  @IsOptional()
  @IsIn(MACHINE_STATUSES)
  status?: MachineStatus;

  @IsOptional()
  @IsString()
  identityRef?: string;
}

/** §4.6.2 query. */
export class ListMachinesQuery extends ListQueryDto {
  @IsOptional()
  @IsIn(MACHINE_STATUSES)
  status?: MachineStatus;

  @IsOptional()
  @IsString()
  ownerId?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'includeDrafts must be true or false' })
  includeDrafts?: 'true' | 'false';
}
