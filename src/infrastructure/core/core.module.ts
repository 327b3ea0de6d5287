import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { IdempotencyRecords } from '../../application/idempotency/idempotency-records';
import { CLOCK, Clock } from '../../application/ports/clock.port';
import { DISPATCHER_STATUS } from '../../application/ports/dispatcher-status.port';
import { EVENT_STORE, EventStore } from '../../application/ports/event-store.port';
import { IDS } from '../../application/ports/ids.port';
import { PROJECTION_STATUS } from '../../application/ports/projection-status.port';
import { READ_MODEL_SYNC } from '../../application/ports/read-model-sync.port';
import { AggregateStreams } from '../../application/shared/aggregate-streams';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { SystemClock } from '../clock/system-clock';
import { openEventStore } from '../event-store/open-event-store';
import { UlidIds } from '../ids/ulid-ids';
import { Projection } from '../projections/projection';
import { ProjectionEngine } from '../projections/projection-engine';
import { ReadModelStore } from '../projections/read-model-store';
import { ExecutionDispatcher } from '../runtime/execution-dispatcher';
import { StartupError } from './startup-error';

export const PROJECTIONS = Symbol('Projections');

export type CoreOptions = {
  config: AppConfig;
  projections?: Projection[];
  clock?: Clock;
  /** An already open store (tests, benchmarks); the module then does not close it. */
  eventStore?: EventStore;
};

/** Starts projections and the dispatcher after every module is wired; closes stores on shutdown. */
@Injectable()
class CoreLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly engine: ProjectionEngine,
    private readonly readModels: ReadModelStore,
    private readonly dispatcher: ExecutionDispatcher,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject('OWNS_EVENT_STORE') private readonly ownsStore: boolean,
  ) {}

  async onApplicationBootstrap() {
    await this.engine.start();
    this.dispatcher.start();
  }

  async onApplicationShutdown() {
    this.dispatcher.stop();
    await this.engine.stop();
    await this.readModels.close();
    if (this.ownsStore) await this.store.close();
  }
}

/**
 * Wires the ports of the kernel to their adapters (ARCHITECTURE §5): configuration, clock, ids,
 * event store, read-model store and projection engine, command plumbing, idempotency records.
 */
@Global()
@Module({})
export class CoreModule {
  static register(options: CoreOptions): DynamicModule {
    const { config } = options;
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CLOCK, useValue: options.clock ?? new SystemClock() },
        { provide: IDS, useValue: new UlidIds() },
        { provide: EVENT_STORE, useFactory: () => options.eventStore ?? openEventStore(config) },
        { provide: 'OWNS_EVENT_STORE', useValue: options.eventStore === undefined },
        {
          provide: ReadModelStore,
          useFactory: () => {
            try {
              return new ReadModelStore(config.readModelPath);
            } catch (error) {
              throw new StartupError(
                'PEAQOS_READ_MODEL_PATH',
                `cannot open ${config.readModelPath} for writing: ${(error as Error).message}`,
              );
            }
          },
        },
        { provide: PROJECTIONS, useValue: options.projections ?? [] },
        {
          provide: ProjectionEngine,
          inject: [EVENT_STORE, ReadModelStore, PROJECTIONS],
          useFactory: (store: EventStore, readModels: ReadModelStore, projections: Projection[]) =>
            new ProjectionEngine(store, readModels, projections),
        },
        { provide: READ_MODEL_SYNC, useExisting: ProjectionEngine },
        { provide: PROJECTION_STATUS, useExisting: ProjectionEngine },
        { provide: ExecutionDispatcher, useValue: new ExecutionDispatcher() },
        { provide: DISPATCHER_STATUS, useExisting: ExecutionDispatcher },
        AggregateStreams,
        IdempotencyRecords,
        CoreLifecycle,
      ],
      exports: [
        APP_CONFIG,
        CLOCK,
        IDS,
        EVENT_STORE,
        ReadModelStore,
        ProjectionEngine,
        READ_MODEL_SYNC,
        PROJECTION_STATUS,
        DISPATCHER_STATUS,
        AggregateStreams,
        IdempotencyRecords,
      ],
    };
  }
}
