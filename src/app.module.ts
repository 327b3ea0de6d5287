import { DynamicModule, Module, Type } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { HealthModule } from './http/health/health.module';
import { CoreModule, CoreOptions } from './infrastructure/core/core.module';
import { IdentityModule } from './infrastructure/identity/identity.module';
import { Projection } from './infrastructure/projections/projection';

/** Every projection the service runs. Feature modules add theirs here. */
export const PROJECTIONS_OF_THE_SERVICE: Projection[] = [];

export type AppModuleOptions = CoreOptions & {
  /** Extra modules (tests mount probe endpoints this way). */
  imports?: Array<Type | DynamicModule>;
};

@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    const { imports = [], ...core } = options;
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        CoreModule.register({ ...core, projections: [...PROJECTIONS_OF_THE_SERVICE, ...(core.projections ?? [])] }),
        HealthModule,
        IdentityModule,
        ...imports,
      ],
    };
  }
}
