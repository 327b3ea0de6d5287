import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { marketOrderDecider, MarketOrderState, marketOrderStream } from '../../domain/order/market-order.decider';
import { MarketPaymentRecord, OrderRecords } from '../../domain/order/market-order-types';
import { PaymentHeaders, paymentHeadersFacts } from '../../domain/order/payment-headers';
import { EscrowLockRequest, PaymentProofRequest, prepareEscrowLock, preparePaymentProof } from '../../domain/order/payment-proof';
import { PaymentReuseKey } from '../../domain/order/payment-reuse.decider';
import { SessionClaims } from '../../domain/pairing/session-auth';
import { DomainError, notFound } from '../../domain/shared/domain-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineGates } from '../machines/machine-gates';
import { paymentFailureError } from '../payments/payment-failure-errors';
import { CLOCK, Clock } from '../ports/clock.port';
import { PAYMENT_VERIFIER, PaymentVerifier } from '../ports/payment-verifier.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { OrderAgentAccess } from './order-access';
import { orderPaymentSettings } from './order-payment-settings';
import { PaymentClaims } from './payment-claims';

export type PaymentProofInput = Omit<PaymentProofRequest, 'paymentHeaders'> & { paymentHeaders?: PaymentHeaders };

/** §7.5.5 `POST /market/orders/:orderId/payment-proof`. */
export class RecordPaymentProof {
  constructor(
    readonly orderId: string,
    readonly request: PaymentProofInput,
    readonly session: SessionClaims | null,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(RecordPaymentProof)
export class RecordPaymentProofHandler implements ICommandHandler<RecordPaymentProof, MarketPaymentRecord> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    private readonly access: OrderAgentAccess,
    private readonly claims: PaymentClaims,
    @Inject(PAYMENT_VERIFIER) private readonly verifier: PaymentVerifier,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ orderId, request, session, ctx }: RecordPaymentProof): Promise<MarketPaymentRecord> {
    // Step 1.
    const records = await loadRecords(this.streams, orderId);
    await this.access.check(records.order, session);
    await this.gates.active(records.order.machineId);
    // Steps 2–7; raw headers are reduced to their §9 fingerprint here and go no further.
    const settings = orderPaymentSettings(this.config);
    const proofRequest: PaymentProofRequest = { ...request, paymentHeaders: paymentHeadersFacts(request.paymentHeaders) };
    const prepared = preparePaymentProof(records, proofRequest, settings);
    if (prepared.action === 'existing') return prepared.payment;
    // Step 8 (answered now; the claims below make it atomic with the recording).
    const keys: PaymentReuseKey[] = [
      ...(prepared.txKey ? [{ kind: 'tx' as const, tx: prepared.txKey }] : []),
      ...(prepared.fingerprint ? [{ kind: 'headers' as const, fingerprint: prepared.fingerprint }] : []),
    ];
    const reuse = await this.claims.reuseOf(keys, orderId, this.clock.now().toISOString());
    // Step 9.
    let rpcVerification: { blockNumber: number; confirmations: number } | undefined;
    if (!reuse && prepared.proof.verificationMode === 'rpc') {
      const { proof } = prepared;
      if (this.config.paymentRpcUrl === null) throw new DomainError('PAYMENT_RPC_REQUIRED', 'No payment RPC URL is configured');
      const verified = await this.verifier.verifyErc20Transfer({
        rpcUrl: this.config.paymentRpcUrl,
        chainId: proof.chainId!,
        txHash: proof.txHash!,
        tokenAddress: proof.tokenAddress!,
        decimals: proof.tokenDecimals!,
        fromAddress: proof.fromAddress!,
        toAddress: proof.toAddress!,
        amount: proof.amount!,
        minConfirmations: this.config.paymentMinConfirmations,
      });
      if (!verified.ok) throw paymentFailureError(verified.failure);
      rpcVerification = { blockNumber: verified.value.blockNumber, confirmations: verified.value.confirmations };
    }
    // Step 10.
    if (!reuse) await this.claims.claim(keys, orderId, ctx);
    const { state } = await this.streams.handle(
      marketOrderStream(orderId, records.order.machineId),
      marketOrderDecider,
      { type: 'record_payment_proof', orderId, proof: proofRequest, reuse, rpcVerification },
      ctx,
      { context: { settings } },
    );
    return paymentOf(state, orderId);
  }
}

/** §7.5.7 `payment/escrow-lock`. */
export class LockEscrow {
  constructor(
    readonly orderId: string,
    readonly request: EscrowLockRequest,
    readonly session: SessionClaims | null,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(LockEscrow)
export class LockEscrowHandler implements ICommandHandler<LockEscrow, MarketPaymentRecord> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    private readonly access: OrderAgentAccess,
    private readonly claims: PaymentClaims,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ orderId, request, session, ctx }: LockEscrow): Promise<MarketPaymentRecord> {
    const records = await loadRecords(this.streams, orderId);
    await this.access.check(records.order, session);
    await this.gates.active(records.order.machineId);
    const settings = orderPaymentSettings(this.config);
    const prepared = prepareEscrowLock(records, request, settings);
    if (prepared.action === 'existing') return prepared.payment;
    const keys: PaymentReuseKey[] = prepared.txKey ? [{ kind: 'tx', tx: prepared.txKey }] : [];
    const reuse = await this.claims.reuseOf(keys, orderId, this.clock.now().toISOString());
    if (!reuse) await this.claims.claim(keys, orderId, ctx);
    const { state } = await this.streams.handle(
      marketOrderStream(orderId, records.order.machineId),
      marketOrderDecider,
      { type: 'lock_escrow', orderId, escrow: request, reuse },
      ctx,
      { context: { settings } },
    );
    return paymentOf(state, orderId);
  }
}

/** §7.5.8 `payment/release` and §7.5.9 `payment/refund`: operator actions, existence gate only. */
export class SettlePayment {
  constructor(
    readonly orderId: string,
    readonly settlement: { type: 'release_payment' } | { type: 'refund_payment'; reason?: string | null },
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(SettlePayment)
export class SettlePaymentHandler implements ICommandHandler<SettlePayment, MarketPaymentRecord> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly gates: MachineGates,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ orderId, settlement, ctx }: SettlePayment): Promise<MarketPaymentRecord> {
    const { order } = await loadRecords(this.streams, orderId);
    this.gates.existence(order.machineId);
    const { state } = await this.streams.handle(
      marketOrderStream(orderId, order.machineId),
      marketOrderDecider,
      { ...settlement, orderId },
      ctx,
      { context: { settings: orderPaymentSettings(this.config) } },
    );
    return paymentOf(state, orderId);
  }
}

/** Order and payment as the order's own stream has them; 404 `market-order` when there is none. */
export async function loadRecords(streams: AggregateStreams, orderId: string): Promise<OrderRecords> {
  const { state } = await streams.load(marketOrderStream(orderId, '').streamId, marketOrderDecider);
  if (state.kind !== 'live') throw notFound('market-order', orderId);
  return { order: state.order, payment: state.payment };
}

function paymentOf(state: MarketOrderState, orderId: string): MarketPaymentRecord {
  if (state.kind !== 'live' || state.payment === null) throw new Error(`market-order ${orderId} has no payment after a payment command`);
  return state.payment;
}
