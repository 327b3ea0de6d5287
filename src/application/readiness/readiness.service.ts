import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CATALOG_STATUS, CatalogStatus } from '../ports/catalog-status.port';
import { DISPATCHER_STATUS, DispatcherStatus } from '../ports/dispatcher-status.port';
import { EVENT_STORE, EventStore } from '../ports/event-store.port';
import { PROJECTION_STATUS, ProjectionStatusSource } from '../ports/projection-status.port';

export type CheckStatus = 'ok' | 'warn' | 'fail';
export type ReadinessCheck = {
  name: 'store' | 'catalog' | 'auth' | 'runtime' | 'skills' | 'projections';
  status: CheckStatus;
  detail?: string;
  latencyMs?: number;
};
export type ReadinessReport = { status: 'ready' | 'degraded' | 'not_ready'; checks: ReadinessCheck[] };

const STORE_WARN_MS = 500;
const STORE_FAIL_MS = 2000;
const LAG_WARN_MS = 5000;
const LAG_FAIL_MS = 60000;

/** §3.2: the six checks, in order. Never calls MCR or the payment RPC. */
@Injectable()
export class ReadinessService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROJECTION_STATUS) private readonly projections: ProjectionStatusSource,
    @Inject(CATALOG_STATUS) private readonly catalog: CatalogStatus,
    @Inject(DISPATCHER_STATUS) private readonly dispatcher: DispatcherStatus,
  ) {}

  async report(): Promise<ReadinessReport> {
    const checks: ReadinessCheck[] = [
      await this.storeCheck(),
      this.catalogCheck(),
      this.authCheck(),
      this.runtimeCheck(),
      this.skillsCheck(),
      await this.projectionsCheck(),
    ];
    const status = checks.some((c) => c.status === 'fail') ? 'not_ready' : checks.some((c) => c.status === 'warn') ? 'degraded' : 'ready';
    return { status, checks };
  }

  private async storeCheck(): Promise<ReadinessCheck> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${STORE_FAIL_MS} ms`)), STORE_FAIL_MS);
      });
      const head = await Promise.race([this.store.headPosition(), timeout]);
      const latencyMs = Date.now() - started;
      return {
        name: 'store',
        status: latencyMs > STORE_WARN_MS ? 'warn' : 'ok',
        detail: `${this.config.eventStore} event store, head position ${head ?? 'none (empty store)'}`,
        latencyMs,
      };
    } catch (error) {
      return {
        name: 'store',
        status: 'fail',
        detail: `event store unavailable: ${(error as Error).message}`,
        latencyMs: Date.now() - started,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private catalogCheck(): ReadinessCheck {
    const services = this.catalog.serviceCount();
    return services > 0
      ? { name: 'catalog', status: 'ok', detail: `${services} services` }
      : { name: 'catalog', status: 'warn', detail: 'the loaded catalogue contains no service' };
  }

  private authCheck(): ReadinessCheck {
    const c = this.config;
    const conditions: string[] = [];
    if (c.production && !c.requireApiAuth) conditions.push('production with PEAQOS_REQUIRE_API_AUTH=false');
    if (c.sessionSecretEphemeral) conditions.push('ephemeral PEAQOS_AGENT_PAIRING_SESSION_SECRET in use');
    if (c.production && !c.requireAgentPairingAuth) conditions.push('production with PEAQOS_REQUIRE_AGENT_PAIRING_AUTH=false');
    if (c.production && c.machineIdentityVerification !== 'required') {
      conditions.push(`production with PEAQOS_MACHINE_IDENTITY_VERIFICATION=${c.machineIdentityVerification}`);
    }
    if (c.production && c.agentPairingVerification !== 'required') {
      conditions.push(`production with PEAQOS_AGENT_PAIRING_VERIFICATION=${c.agentPairingVerification}`);
    }
    return conditions.length
      ? { name: 'auth', status: 'warn', detail: conditions.join('; ') }
      : { name: 'auth', status: 'ok', detail: `API-key auth ${c.requireApiAuth ? 'on' : 'off'}` };
  }

  private runtimeCheck(): ReadinessCheck {
    if (!this.dispatcher.isRunning()) return { name: 'runtime', status: 'fail', detail: 'the execution dispatcher is not running' };
    const { usable, unreachable } = this.dispatcher.endpointCounts();
    return { name: 'runtime', status: 'ok', detail: `dispatcher running; ${usable} usable, ${unreachable} unreachable runtime endpoints` };
  }

  private skillsCheck(): ReadinessCheck {
    const skills = this.catalog.skillCount();
    return skills > 0
      ? { name: 'skills', status: 'ok', detail: `${skills} skills` }
      : { name: 'skills', status: 'warn', detail: 'the skill registry contains no skill' };
  }

  private async projectionsCheck(): Promise<ReadinessCheck> {
    const statuses = this.projections.status();
    const failed = statuses.filter((s) => s.state === 'failed' || s.state === 'stopped');
    if (failed.length) {
      return {
        name: 'projections',
        status: 'fail',
        detail: failed.map((s) => `${s.name} ${s.state}${s.error ? `: ${s.error}` : ''}`).join('; '),
      };
    }
    const rebuilding = statuses.filter((s) => s.state === 'rebuilding' || s.state === 'starting').map((s) => s.name);
    // A rebuilding projection is reported as such (warn), not as lagging since the first event.
    const live = statuses.filter((s) => s.state === 'running');
    let lagMs = 0;
    try {
      const newest = live.length ? await this.store.readLast() : null;
      if (newest) {
        const newestAt = Date.parse(newest.metadata.occurredAt);
        for (const s of live) {
          if (s.position === newest.position) continue;
          const processedAt = s.lastOccurredAt ? Date.parse(s.lastOccurredAt) : 0;
          lagMs = Math.max(lagMs, newestAt - processedAt);
        }
      }
    } catch {
      // The store check reports the outage; lag is unknown, not failing.
    }
    const detail = `lag ${lagMs} ms across ${statuses.length} projections${rebuilding.length ? `; rebuilding: ${rebuilding.join(', ')}` : ''}`;
    const status: CheckStatus = lagMs > LAG_FAIL_MS ? 'fail' : lagMs > LAG_WARN_MS || rebuilding.length ? 'warn' : 'ok';
    return { name: 'projections', status, detail };
  }
}
