import { Global, Module } from '@nestjs/common';
import {
  GetAdapterHandler,
  GetServiceHandler,
  GetSkillHandler,
  ListAdaptersHandler,
  ListServicesHandler,
  ListSkillsHandler,
} from '../../application/catalog/catalog-queries';
import { CATALOG } from '../../application/ports/catalog.port';
import { CATALOG_STATUS } from '../../application/ports/catalog-status.port';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MarketAdaptersController } from '../../http/catalog/market-adapters.controller';
import { MarketServicesController } from '../../http/catalog/market-services.controller';
import { SkillsController } from '../../http/catalog/skills.controller';
import { MachinesModule } from '../machines/machines.module';
import { catalogPathOf, LoadedCatalog, readCatalog } from './loaded-catalog';
import { SkillReferences } from './skill-references';

/**
 * The catalogue (§2.5, §6.1–§6.3): loaded and validated once at start (a broken file stops the start,
 * naming PEAQOS_CATALOG_PATH), served read-only by the skills, services and adapters endpoints, and
 * available to every feature through the CATALOG port. `SkillReferences` is the skill half of
 * MACHINE_REFERENCES (§4.1), for AppModule to compose with the policy half.
 */
@Global()
@Module({
  imports: [MachinesModule],
  controllers: [SkillsController, MarketServicesController, MarketAdaptersController],
  providers: [
    { provide: LoadedCatalog, inject: [APP_CONFIG], useFactory: (config: AppConfig) => readCatalog(catalogPathOf(config)) },
    { provide: CATALOG, useExisting: LoadedCatalog },
    { provide: CATALOG_STATUS, useExisting: LoadedCatalog },
    ListSkillsHandler,
    GetSkillHandler,
    ListServicesHandler,
    GetServiceHandler,
    ListAdaptersHandler,
    GetAdapterHandler,
    SkillReferences,
  ],
  exports: [CATALOG, CATALOG_STATUS, SkillReferences],
})
export class CatalogModule {}
