import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CatalogService } from '../../domain/catalog/catalog-types';
import {
  ExecutionResult,
  marketOrderDecider,
  MarketOrderState,
  marketOrderStream,
  PolicyDenial,
} from '../../domain/order/market-order.decider';
import { MarketOrderRecord, MarketPaymentChallenge, OrderRecords } from '../../domain/order/market-order-types';
import { paymentRequired } from '../../domain/order/order-errors';
import { x402Challenge } from '../../domain/order/payment-challenge';
import { PaymentHeaders, paymentHeadersFacts, PaymentHeadersFacts } from '../../domain/order/payment-headers';
import { PaymentReuseKey } from '../../domain/order/payment-reuse.decider';
import { agentPairingDecider, AgentPairingState, agentPairingStream } from '../../domain/pairing/agent-pairing.decider';
import { delegationListViolations } from '../../domain/pairing/delegation-policy';
import { SessionClaims } from '../../domain/pairing/session-auth';
import { firstMachinePolicyDenial } from '../../domain/policy/machine-policy';
import { DomainError, notFound } from '../../domain/shared/domain-error';
import {
  AttemptResult,
  classifyDispatch,
  JudgedAttempt,
  judgeDispatchAttempt,
  parsePaymentResponseHeader,
} from '../../domain/task/dispatch-result';
import { RouteCandidate, routeCandidates } from '../../domain/task/route-resolution';
import {
  latestOutcome,
  latestRoute,
  latestRun,
  LiveTaskState,
  Outcome,
  Route,
  Run,
  Task,
  TaskCommand,
  taskDecider,
  taskStream,
} from '../../domain/task/task.decider';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineGates } from '../machines/machine-gates';
import { withPairingStore } from '../pairings/pairing-unavailable';
import { CATALOG, Catalog } from '../ports/catalog.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { IDS, Ids } from '../ports/ids.port';
import { POLICIES_READ_MODEL, PoliciesReadModel } from '../ports/policies-read-model.port';
import {
  PROVIDER_ADAPTERS,
  ProviderAdapter,
  ProviderAnswer,
  ProviderCredentials,
  ProviderResponseExtras,
} from '../ports/provider-adapter.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { InterruptedExecutions } from './interrupted-executions';
import { OrderAgentAccess } from './order-access';
import { orderPaymentSettings } from './order-payment-settings';
import { PaymentClaims } from './payment-claims';
import { loadRecords } from './payment-commands';

/** §7.5.10 `ExecuteMarketOrderRequest`. Credentials and payment headers are secrets: forwarded, never stored. */
export type ExecuteOrderRequest = {
  input?: Record<string, unknown>;
  providerCredentials?: ProviderCredentials;
  paymentHeaders?: PaymentHeaders;
};

/** §7.5.10 `ExecuteMarketOrderResult`. */
export type ExecuteOrderResult = { order: MarketOrderRecord; task: Task; route: Route; run: Run; outcome: Outcome };

/** `200` (native delivered) or `202` (handoff). */
export type ExecuteOrderOutcome = { status: 200 | 202; result: ExecuteOrderResult };

/** §7.5.10 `POST /market/orders/:orderId/execute`. */
export class ExecuteOrder {
  constructor(
    readonly orderId: string,
    readonly request: ExecuteOrderRequest,
    readonly session: SessionClaims | null,
    readonly ctx: CommandContext,
  ) {}
}

/** One execution in flight: the ids recorded at step 8 and the facts the dispatch needs. */
type Execution = {
  order: MarketOrderRecord;
  service: CatalogService;
  taskId: string;
  routeId: string;
  runId: string;
  input: Record<string, unknown>;
  headers: PaymentHeadersFacts | null;
  ctx: CommandContext;
};

/**
 * Steps 1–7 are checked before anything is written; the order stream is the commit point of step 8 (a
 * concurrent `execute` then meets `executing`). The task stream records the route and run before the
 * dispatch and their end after it, so an auditor sees every attempt. Raw payment headers and
 * credentials only travel to the provider adapter.
 */
@CommandHandler(ExecuteOrder)
export class ExecuteOrderHandler implements ICommandHandler<ExecuteOrder, ExecuteOrderOutcome> {
  private readonly logger = new Logger('ExecuteOrder');

  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    private readonly access: OrderAgentAccess,
    private readonly claims: PaymentClaims,
    private readonly interrupted: InterruptedExecutions,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(POLICIES_READ_MODEL) private readonly policies: PoliciesReadModel,
    @Inject(PROVIDER_ADAPTERS) private readonly adapters: readonly ProviderAdapter[],
    @Inject(IDS) private readonly ids: Ids,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ orderId, request, session, ctx }: ExecuteOrder): Promise<ExecuteOrderOutcome> {
    // Step 1.
    const loaded = await loadRecords(this.streams, orderId);
    // Without a token the check loads the order's pairing; step 4 reuses it.
    const pairing = await this.access.check(loaded.order, session);
    const machine = await this.gates.active(loaded.order.machineId);
    const { order, payment } = await this.interrupted.endIfInterrupted(loaded, ctx);
    // Step 2 for orders already executed (the decider answers it again under the stream's lock).
    if (order.status === 'delivered' || order.status === 'handoff') return this.recorded(order);

    const service = this.serviceOf(order);
    const headers = paymentHeadersFacts(request.paymentHeaders);
    // Step 5: an x402 payment without a proof is backed by these headers; one fingerprint backs one order.
    const headerKeys: PaymentReuseKey[] =
      payment?.type === 'x402' && payment.proof === null && headers?.hasPayment
        ? [{ kind: 'headers', fingerprint: headers.fingerprint }]
        : [];
    const headerReuse = await this.claims.reuseOf(headerKeys, orderId, this.now());
    const resolution = this.routes(order, service);
    const ids = {
      taskId: order.taskId ?? this.ids.next('task'),
      routeId: this.ids.next('route'),
      runId: this.ids.next('run'),
    };
    const input = request.input ?? order.input;

    // Steps 2–8: refused here, nothing is written; accepted, the order is `executing`.
    const started = await this.streams.handle(
      marketOrderStream(orderId, order.machineId),
      marketOrderDecider,
      {
        type: 'start_execution',
        orderId,
        input: request.input,
        policyDenial: await this.policyDenial(order, machine.policyIds, pairing),
        paymentHeaders: headers,
        headerReuse,
        missingCredentials: this.missingCredentials(order, request.providerCredentials),
        route: resolution.ok ? { kind: 'resolved', ...ids } : { kind: 'none', reason: resolution.reason },
      },
      ctx,
      { context: { settings: orderPaymentSettings(this.config) }, waitForReadModels: false },
    );
    const current = liveOrder(started.state, orderId);
    if (started.events.length === 0) return this.recorded(current);
    if (!resolution.ok) throw new Error('A route was resolved before the execution started');

    const execution: Execution = { order: current, service, ...ids, input, headers, ctx };
    const candidates = resolution.candidates;
    // Step 8: the headers claimed for this order (a concurrent execute of another order with them loses
    // here), then the task (created on the first execution), routing, the first route and its run.
    let task: LiveTaskState;
    try {
      await this.claims.claim(headerKeys, orderId, ctx);
      task = await this.recordTask(execution, [
        ...(order.taskId === null ? [this.createTask(execution)] : []),
        { type: 'start_routing', id: ids.taskId, input },
        selectRoute(ids.taskId, ids.routeId, service, candidates[0]),
        { type: 'start_run', id: ids.taskId, runId: ids.runId, routeId: ids.routeId },
      ]);
    } catch (error) {
      // Nothing was dispatched: the order returns to where it was, and the client may try again.
      const errorMessage = error instanceof DomainError ? error.message : 'the execution could not be recorded';
      await this.finish(execution, { kind: 'retryable_failure', errorMessage });
      throw error;
    }

    // Step 9: candidates in order; only an attempt that never reached its target moves on (§8.5.3). Each
    // attempt is judged once (a JSON body parsed once); the classification takes the verdicts.
    const verdicts: JudgedAttempt[] = [];
    let answer: ProviderAnswer | undefined;
    for (let index = 0; index < candidates.length; index += 1) {
      const candidate = candidates[index];
      if (index > 0) {
        execution.routeId = this.ids.next('route');
        execution.runId = this.ids.next('run');
        task = await this.recordTask(execution, [
          finishRun(ids.taskId, latestRun(task)!.id, verdicts[verdicts.length - 1]),
          selectRoute(ids.taskId, execution.routeId, service, candidate),
          { type: 'start_run', id: ids.taskId, runId: execution.runId, routeId: execution.routeId },
        ]);
      }
      answer = await this.invoke(execution, candidate, latestRun(task)!.attempt, request);
      if (answer.kind === 'handoff') return this.handedOff(execution, answer.handoff);
      const verdict = judgeDispatchAttempt(answer.result);
      verdicts.push(verdict);
      if (!verdict.tryNext) break;
    }
    if (answer?.kind !== 'attempt') throw new Error('A resolved route has at least one candidate');
    return this.conclude(execution, verdicts, answer, payment?.type === 'x402');
  }

  /** §8.5.3 classification of the dispatch, recorded on the task and the order; the response of step 9. */
  private async conclude(
    execution: Execution,
    verdicts: JudgedAttempt[],
    answer: Extract<ProviderAnswer, { kind: 'attempt' }>,
    x402: boolean,
  ): Promise<ExecuteOrderOutcome> {
    const verdict = classifyDispatch(verdicts);
    const { extras } = answer;
    const last = verdict.runs[verdict.runs.length - 1];
    const { taskId, runId } = execution;
    const errorMessage = last.error ?? '';
    if (verdict.classification === 'success') {
      const outcomeId = this.ids.next('out');
      const task = await this.recordTask(execution, [
        finishRun(taskId, runId, last),
        { type: 'record_outcome', id: taskId, outcomeId, runId, result: { status: 'delivered', output: verdict.output } },
      ]);
      const { order } = await this.finish(execution, {
        kind: 'delivered',
        outcomeId,
        settlement: parsePaymentResponseHeader(extras?.paymentResponse),
      });
      return { status: 200, result: resultOf(order, task) };
    }
    if (verdict.classification === 'retryable') {
      await this.recordTask(execution, [finishRun(taskId, runId, last), { type: 'return_to_pending', id: taskId }]);
      const rejectedPayment = x402 && verdict.providerStatus === 402;
      const challenge = rejectedPayment ? this.challengeOf(answer.result, extras) : null;
      const { order, payment } = await this.finish(execution, { kind: 'retryable_failure', errorMessage, challenge });
      if (rejectedPayment) {
        throw paymentRequired('payment_rejected', payment?.status ?? null, { challenge, retryable: true });
      }
      throw executionFailed(errorMessage, { orderId: order.id, taskId, runId, retryable: true, orderStatus: order.status });
    }
    const outcomeId = this.ids.next('out');
    await this.recordTask(execution, [
      finishRun(taskId, runId, last),
      { type: 'record_outcome', id: taskId, outcomeId, runId, result: { status: 'failed' } },
    ]);
    const { order } = await this.finish(execution, { kind: 'failed', outcomeId, errorMessage, providerStatus: verdict.providerStatus });
    throw executionFailed(errorMessage, {
      orderId: order.id,
      taskId,
      runId,
      retryable: false,
      orderStatus: order.status,
      outcomeId,
      ...(verdict.providerStatus !== null ? { providerStatus: verdict.providerStatus } : {}),
    });
  }

  /** Handoff: the run succeeds at once; outcome `handoff`, task `handed_off`, order `handoff` (`202`). */
  private async handedOff(execution: Execution, handoff: Outcome['handoff'] & object): Promise<ExecuteOrderOutcome> {
    const { taskId, runId } = execution;
    const outcomeId = this.ids.next('out');
    const task = await this.recordTask(execution, [
      { type: 'finish_run', id: taskId, runId, status: 'succeeded' },
      { type: 'record_outcome', id: taskId, outcomeId, runId, result: { status: 'handoff', handoff } },
    ]);
    const { order } = await this.finish(execution, { kind: 'handoff', outcomeId, handoff });
    return { status: 202, result: resultOf(order, task) };
  }

  private async invoke(
    execution: Execution,
    route: RouteCandidate,
    attempt: number,
    request: ExecuteOrderRequest,
  ): Promise<ProviderAnswer> {
    const { order, service } = execution;
    const adapter = this.adapters.find((a) => a.handles(route, service));
    if (!adapter) throw new Error(`No provider adapter handles ${route.target} routes of ${service.providerKey}`);
    try {
      return await adapter.invoke({
        route,
        service,
        adapter: this.catalog.adapter(service.providerKey) ?? null,
        orderId: order.id,
        taskId: execution.taskId,
        runId: execution.runId,
        attempt,
        machineId: order.machineId,
        operation: order.operation,
        input: execution.input,
        paymentHeaders: request.paymentHeaders ?? null,
        providerCredentials: request.providerCredentials ?? null,
        correlationId: execution.ctx.correlationId,
        timeoutMs: this.config.executeTimeoutMs,
      });
    } catch (error) {
      // An adapter fault after the request may have left: never retried blindly (non-retryable).
      this.logger.error(`Provider adapter ${adapter.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      return { kind: 'attempt', result: { kind: 'response', status: 0, contentType: null, body: 'provider adapter failed', sizeBytes: 0 } };
    }
  }

  /** §7.5.10 step 2 for `delivered` and `handoff`: the recorded result; nothing is executed again. */
  private async recorded(order: MarketOrderRecord): Promise<ExecuteOrderOutcome> {
    if (order.taskId === null) throw new Error(`market-order ${order.id} is ${order.status} without a task`);
    const { state } = await this.streams.load(taskStream(order.taskId, order.machineId).streamId, taskDecider);
    if (state.kind !== 'live') throw notFound('task', order.taskId);
    return { status: order.status === 'handoff' ? 202 : 200, result: resultOf(order, state) };
  }

  private async recordTask(execution: Execution, steps: TaskCommand[]): Promise<LiveTaskState> {
    const { state } = await this.streams.handle(
      taskStream(execution.taskId, execution.order.machineId),
      taskDecider,
      { type: 'steps', id: execution.taskId, steps },
      execution.ctx,
      { waitForReadModels: false },
    );
    if (state.kind !== 'live') throw new Error(`task ${execution.taskId} is missing after it was recorded`);
    return state;
  }

  private async finish(execution: Execution, result: ExecutionResult): Promise<OrderRecords> {
    const { order } = execution;
    const { state } = await this.streams.handle(
      marketOrderStream(order.id, order.machineId),
      marketOrderDecider,
      {
        type: 'finish_execution',
        orderId: order.id,
        routeId: execution.routeId,
        runId: execution.runId,
        result,
        paymentHeaders: execution.headers,
      },
      execution.ctx,
      { context: { settings: orderPaymentSettings(this.config) } },
    );
    if (state.kind !== 'live') throw notFound('market-order', order.id);
    return { order: state.order, payment: state.payment };
  }

  private createTask({ order, taskId, input }: Execution): TaskCommand {
    return {
      type: 'create',
      id: taskId,
      machineId: order.machineId,
      orderId: order.id,
      skillKey: order.skillKey,
      operation: order.operation,
      input,
    };
  }

  /** The service as the catalogue has it now, else as the order recorded it. */
  private serviceOf(order: MarketOrderRecord): CatalogService {
    return this.catalog.service(order.serviceId) ?? (order.serviceSnapshot as unknown as CatalogService);
  }

  /** §8.5.2, keeping the candidates some adapter can dispatch (runtime endpoints arrive with orchestration). */
  private routes(order: MarketOrderRecord, service: CatalogService) {
    const resolution = routeCandidates({
      service,
      adapterRuntimeEndpointRequired: this.catalog.adapter(service.providerKey)?.runtimeEndpointRequired ?? false,
      operation: order.operation,
      usableRuntimeEndpoint: null,
    });
    if (!resolution.ok) return resolution;
    const candidates = resolution.candidates.filter((c) => this.adapters.some((a) => a.handles(c, service)));
    return candidates.length > 0 ? { ok: true as const, candidates } : { ok: false as const, reason: 'no_provider_endpoint' as const };
  }

  /**
   * Step 4: delegation lists of the order's pairing, then machine policies, with today's state. The
   * pairing is the one step 1 loaded for this request when it loaded one.
   */
  private async policyDenial(
    order: MarketOrderRecord,
    policyIds: readonly string[],
    loaded: AgentPairingState | null,
  ): Promise<PolicyDenial | null> {
    const state = loaded ?? (await this.loadPairing(order));
    if (state.kind === 'live') {
      const subject = { skillKey: order.skillKey, serviceId: order.serviceId };
      const [reason] = delegationListViolations(state.pairing.delegationPolicy, subject);
      if (reason) return { source: 'delegationPolicy', reason, pairingId: order.agentPairingId, ...subject };
    }
    const denial = firstMachinePolicyDenial(
      this.policies.byIds(policyIds),
      { providerKey: order.providerKey, serviceType: order.serviceType, executionMode: order.executionMode },
      { amount: order.payment.amount ?? null, currency: order.payment.currency ?? null },
    );
    return denial ? { source: 'machinePolicy', policyId: denial.policyId, reason: denial.reason } : null;
  }

  private async loadPairing(order: MarketOrderRecord): Promise<AgentPairingState> {
    const { state } = await withPairingStore(() =>
      this.streams.load(agentPairingStream(order.agentPairingId, order.machineId).streamId, agentPairingDecider),
    );
    return state;
  }

  /** Step 6: the adapter's required credential fields missing from `providerCredentials[providerKey]`. */
  private missingCredentials(order: MarketOrderRecord, credentials: ProviderCredentials | undefined): string[] {
    const fields = this.catalog.adapter(order.providerKey)?.credentialFields ?? [];
    const supplied = credentials?.[order.providerKey] ?? {};
    return fields
      .filter((f) => f.required)
      .map((f) => f.key)
      .filter((key) => !(typeof supplied[key] === 'string' && supplied[key] !== ''));
  }

  /** A provider `402` on an x402 payment: its new challenge. */
  private challengeOf(result: AttemptResult, extras: ProviderResponseExtras | undefined): MarketPaymentChallenge {
    const body = result.kind === 'response' ? (typeof result.body === 'string' ? result.body : result.body.toString('utf8')) : '';
    return x402Challenge(body, extras?.challengeHeaders ?? {}, this.now());
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

function selectRoute(taskId: string, routeId: string, service: CatalogService, candidate: RouteCandidate): TaskCommand {
  return {
    type: 'select_route',
    id: taskId,
    routeId,
    providerKey: service.providerKey,
    target: candidate.target,
    runtimeEndpointId: candidate.runtimeEndpointId,
    url: candidate.url,
    reason: candidate.reason,
  };
}

function finishRun(taskId: string, runId: string, verdict: { runStatus: 'succeeded' | 'failed'; error: string | null }): TaskCommand {
  return verdict.runStatus === 'succeeded'
    ? { type: 'finish_run', id: taskId, runId, status: 'succeeded' }
    : { type: 'finish_run', id: taskId, runId, status: 'failed', error: verdict.error ?? 'failed' };
}

function resultOf(order: MarketOrderRecord, task: LiveTaskState): ExecuteOrderResult {
  const route = latestRoute(task);
  const run = latestRun(task);
  const outcome = latestOutcome(task);
  if (!route || !run || !outcome) throw new Error(`task ${task.task.id} has no recorded result`);
  return { order, task: task.task, route, run, outcome };
}

function liveOrder(state: MarketOrderState, orderId: string): MarketOrderRecord {
  if (state.kind !== 'live') throw notFound('market-order', orderId);
  return state.order;
}

/** `502 EXECUTION_FAILED` (§7.5.10 step 9). */
function executionFailed(errorMessage: string, details: Record<string, string | number | boolean>): DomainError {
  return new DomainError('EXECUTION_FAILED', `Execution failed: ${errorMessage}`, details);
}
