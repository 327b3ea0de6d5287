import { IsIn, IsOptional, IsString } from 'class-validator';
import {
  AUTH_TYPES,
  AuthType,
  EXECUTION_MODES,
  ExecutionMode,
  INTEGRATION_STATUSES,
  IntegrationStatus,
  SERVICE_TYPES,
  ServiceType,
} from '../../domain/catalog/catalog-types';
import { ListQueryDto } from '../pagination/list-query.dto';
import { IsText } from '../validation/text-rules';

/** `:skillKey`: a key that names no skill is 404 (§0.5). */
export class SkillKeyParam {
  @IsString()
  skillKey!: string;
}

/** `:serviceId`: an id that names no service is 404 (§0.5). */
export class ServiceIdParam {
  @IsString()
  serviceId!: string;
}

/** `:providerKey`: lower-cased before lookup (§6.3.6); one that names no adapter is 404. */
export class ProviderKeyParam {
  @IsString()
  providerKey!: string;
}

/** §6.3.1 query. */
export class ListSkillsQuery extends ListQueryDto {
  @IsOptional()
  @IsIn(SERVICE_TYPES)
  serviceType?: ServiceType;

  @IsOptional()
  @IsString()
  providerKey?: string;
}

/** §6.3.3 query. */
export class ListServicesQuery extends ListQueryDto {
  @IsOptional()
  @IsIn(SERVICE_TYPES)
  serviceType?: ServiceType;

  @IsOptional()
  @IsString()
  skillKey?: string;

  @IsOptional()
  @IsString()
  providerKey?: string;

  @IsOptional()
  @IsIn(EXECUTION_MODES)
  executionMode?: ExecutionMode;

  @IsOptional()
  @IsString()
  region?: string;

  @IsOptional()
  @IsText({ min: 1, max: 200 })
  q?: string;
}

/** §6.3.4 query: `machineId` must name an existing machine (404 otherwise). */
export class GetServiceQuery {
  @IsOptional()
  @IsString()
  machineId?: string;
}

/** §6.3.5 query. */
export class ListAdaptersQuery extends ListQueryDto {
  @IsOptional()
  @IsIn(INTEGRATION_STATUSES)
  integrationStatus?: IntegrationStatus;

  @IsOptional()
  @IsIn(AUTH_TYPES)
  authType?: AuthType;
}
