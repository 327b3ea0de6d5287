import { DynamicModule, Global, InjectionToken, Module, Provider, Type } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { MACHINE_POLICY_DENIALS } from './application/ports/machine-policy-denials.port';
import { MACHINE_REFERENCES } from './application/ports/machine-references.port';
import { MACHINE_POLICY_EXCLUSIONS } from './application/ports/machine-policy-exclusions.port';
import { OPEN_MARKET_ORDERS } from './application/ports/open-market-orders.port';
import { ORDERS_READ_MODEL } from './application/ports/orders-read-model.port';
import { PROVIDER_ADAPTERS } from './application/ports/provider-adapter.port';
import { USABLE_RUNTIME_ENDPOINTS } from './application/ports/runtime-endpoints.port';
import { HealthModule } from './http/health/health.module';
import { AuthModule } from './infrastructure/auth/auth.module';
import { CatalogModule } from './infrastructure/catalog/catalog.module';
import { CoreModule, CoreOptions } from './infrastructure/core/core.module';
import { IdentityModule } from './infrastructure/identity/identity.module';
import { CatalogAndPolicyReferences } from './infrastructure/machines/machine-references';
import { MachinesModule, machinesProjection } from './infrastructure/machines/machines.module';
import { OrdersModule, ordersProjection, quotesProjection } from './infrastructure/orders/orders.module';
import { PairingsModule, pairingsProjection } from './infrastructure/pairings/pairings.module';
import { PoliciesModule, policiesProjection, PolicyDenials, PolicyExclusions } from './infrastructure/policies/policies.module';
import { PolicyReferences } from './infrastructure/policies/policy-references';
import { Projection } from './infrastructure/projections/projection';
import { ExternalHandoffAdapter } from './infrastructure/providers/external-handoff.adapter';
import { HttpProviderAdapter } from './infrastructure/providers/http-provider.adapter';
import { SearchModule } from './infrastructure/search/search.module';
import { NoRuntimeEndpoints } from './infrastructure/runtime/no-runtime-endpoints';

/** Every projection the service runs. Feature modules add theirs here. */
export const PROJECTIONS_OF_THE_SERVICE: Projection[] = [
  machinesProjection,
  pairingsProjection,
  policiesProjection,
  ordersProjection,
  quotesProjection,
];

/**
 * Queries one feature asks of another (ports answered by another feature's read model), and the
 * provider adapters execution dispatches through. Until the answering feature exists, its honest
 * default answers: no runtime endpoints. Tests and benchmarks may replace any of them.
 */
const QUERY_PORTS: Provider[] = [
  { provide: PROVIDER_ADAPTERS, useFactory: () => [new ExternalHandoffAdapter(), new HttpProviderAdapter()] },
  // The orders feature's one read model (OrdersModule) answers it too.
  { provide: OPEN_MARKET_ORDERS, useExisting: ORDERS_READ_MODEL },
  PolicyReferences,
  { provide: MACHINE_REFERENCES, useClass: CatalogAndPolicyReferences },
  { provide: USABLE_RUNTIME_ENDPOINTS, useValue: new NoRuntimeEndpoints() },
  { provide: MACHINE_POLICY_EXCLUSIONS, useClass: PolicyExclusions },
  { provide: MACHINE_POLICY_DENIALS, useClass: PolicyDenials },
];

export type AppModuleOptions = CoreOptions & {
  /** Extra modules (tests mount probe endpoints this way). */
  imports?: Array<Type | DynamicModule>;
  /** Replacements for query ports, e.g. a test double standing in for a feature not built yet. */
  overrides?: Provider[];
};

@Global()
@Module({})
class QueryPortsModule {
  static register(overrides: Provider[]): DynamicModule {
    const overridden = new Set(overrides.map(tokenOf));
    const providers = [...QUERY_PORTS.filter((p) => !overridden.has(tokenOf(p))), ...overrides];
    // OrdersModule exports ORDERS_READ_MODEL, which OPEN_MARKET_ORDERS is an alias of.
    return { module: QueryPortsModule, imports: [OrdersModule], providers, exports: providers.map(tokenOf) };
  }
}

function tokenOf(provider: Provider): InjectionToken {
  return typeof provider === 'function' ? provider : provider.provide;
}

@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    const { imports = [], overrides = [], ...core } = options;
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        CoreModule.register({ ...core, projections: [...PROJECTIONS_OF_THE_SERVICE, ...(core.projections ?? [])] }),
        QueryPortsModule.register(overrides),
        HealthModule,
        AuthModule,
        IdentityModule,
        MachinesModule,
        PairingsModule,
        CatalogModule,
        PoliciesModule,
        SearchModule,
        OrdersModule,
        ...imports,
      ],
    };
  }
}
