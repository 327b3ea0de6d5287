import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Machine, MachineStatus } from '../../domain/machine/machine.decider';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MACHINES_READ_MODEL, MachineListFilter, MachinesReadModel, MachineSortKey } from '../ports/machines-read-model.port';
import { MachineGates } from './machine-gates';

/** §4.6.4 `GET /machines/:machineId`: the read gate, checked again on every read. */
export class GetMachine {
  constructor(readonly machineId: string) {}
}

@QueryHandler(GetMachine)
export class GetMachineHandler implements IQueryHandler<GetMachine, Machine> {
  constructor(private readonly gates: MachineGates) {}

  execute({ machineId }: GetMachine): Promise<Machine> {
    return this.gates.read(machineId);
  }
}

/** §4.6.2 `GET /machines`: one page of up to `limit` scanned machines, `after` the cursor position. */
export class ListMachines {
  constructor(
    readonly filters: { status?: MachineStatus; ownerId?: string; includeDrafts: boolean },
    readonly after: MachineSortKey | null,
    readonly limit: number,
  ) {}
}

/**
 * `scanned` are the machines of the page in list order (one more than `limit` tells that a next page
 * exists); `items` those of them that pass the read-gate checks. Pages may be short (§0.10), so the
 * cursor follows `scanned`, never `items`.
 */
export type MachinePage = { scanned: Machine[]; items: Machine[] };

/** MCR lookups of one page run this many at a time (they are cached, §4.3). */
const MCR_CONCURRENCY = 8;

@QueryHandler(ListMachines)
export class ListMachinesHandler implements IQueryHandler<ListMachines, MachinePage> {
  constructor(
    @Inject(MACHINES_READ_MODEL) private readonly machines: MachinesReadModel,
    private readonly gates: MachineGates,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ filters, after, limit }: ListMachines): Promise<MachinePage> {
    const filter: MachineListFilter = {
      status: filters.status,
      ownerId: filters.ownerId,
      membership:
        this.config.machineIdentityVerification === 'disabled'
          ? { kind: 'all' }
          : { kind: 'verified', includeUnverifiedDrafts: filters.includeDrafts },
    };
    const scanned = this.machines.page(filter, after, limit + 1);
    const candidates = scanned.slice(0, limit);
    // Machines that no longer resolve or whose signer is no longer a controller are left out; MCR being
    // unavailable fails the whole request (readChecks throws it).
    const failures = await mapLimited(candidates, MCR_CONCURRENCY, (machine) => this.gates.readChecks(machine));
    return { scanned, items: candidates.filter((_, i) => failures[i] === null) };
  }
}

async function mapLimited<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
