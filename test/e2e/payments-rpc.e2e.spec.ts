import type { Address, Hash } from 'viem';
import type { HDAccount } from 'viem/accounts';
import {
  closedPortUrl,
  deployErc20,
  forwardRpc,
  rpcResult,
  startAnvil,
  startFakeRpc,
  type Anvil,
  type FakeReply,
  type FakeRpcServer,
  type RpcRequest,
  type TestErc20,
} from '../support/anvil';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { OrderAgent, OrderApi } from '../support/order-api';
import { expectPaymentShape, PaymentApi, paymentCatalogFile, randomTxHash, SOLANA_PAY_TO, usePaymentAgent } from '../support/payment-api';
import { expectBodyIssue, refusedWithoutEvents } from '../support/search-api';
import { TestApp } from '../support/test-app';

/**
 * `payment-proof` in `rpc` mode against a real EVM node (§7.5.5 step 9, §7.6): anvil on 127.0.0.1 with
 * a real 6-decimal ERC-20, real transfers signed by anvil's accounts, and the payment variables of §2.2
 * (PEAQOS_PAYMENT_RPC_URL and its fallbacks, PEAQOS_CHAIN_ID, PEAQOS_USDT_CONTRACT,
 * PEAQOS_USDT_DECIMALS, PEAQOS_PAYMENT_MIN_CONFIRMATIONS, PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION).
 */

const T0 = '2026-05-04T10:00:00.000Z';
/** 2.5 USDT in raw units (6 decimals): the price of pay.wallet. */
const PRICE_RAW = 2_500_000n;

let anvil: Anvil;
let usdt: TestErc20;
let usdx: TestErc20;
let payer: HDAccount;
let payee: HDAccount;
let other: HDAccount;
/** Holds no USDT: its transfers revert. */
let broke: HDAccount;
let closedUrl: string;

beforeAll(async () => {
  anvil = await startAnvil();
  [, payer, payee, other, broke] = anvil.accounts;
  usdt = await deployErc20(anvil, { decimals: 6, symbol: 'USDT' });
  usdx = await deployErc20(anvil, { decimals: 6, symbol: 'USDX' });
  await usdt.mint(payer.address, 1_000_000_000n);
  await usdt.mint(other.address, 100_000_000n);
  await usdx.mint(payer.address, 100_000_000n);
  closedUrl = await closedPortUrl();
});
afterAll(async () => {
  await anvil?.stop();
});

const catalog = () =>
  paymentCatalogFile({ token: usdt.address, payTo: payee.address, chainId: anvil.chainId, providerUrl: closedUrl, closedUrl });
/** The payment variables for the anvil chain and token; `rpc` replaces the RPC variables. */
const chainEnv = (rpc: Record<string, string> | null = null): Record<string, string> => ({
  PEAQOS_CHAIN_ID: String(anvil.chainId),
  PEAQOS_USDT_CONTRACT: usdt.address,
  PEAQOS_USDT_DECIMALS: '6',
  ...(rpc ?? { PEAQOS_PAYMENT_RPC_URL: anvil.rpcUrl }),
});

/** A mined transfer of `raw` units (USDT unless told) and its receipt's block number. */
async function paid(from: HDAccount, to: Address, raw: bigint, token: TestErc20 = usdt): Promise<{ hash: Hash; block: bigint }> {
  const hash = await token.transfer(from, to, raw);
  const receipt = await anvil.receipt(hash);
  if (receipt.status !== 'success') throw new Error(`transfer ${hash} failed`);
  return { hash, block: receipt.blockNumber };
}

/** An rpc proof of `hash` paying 2.5 from the payer to the payee (addresses in lower case). */
const rpcProof = (hash: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  verificationMode: 'rpc',
  txHash: hash,
  amount: '2.5',
  fromAddress: payer.address.toLowerCase(),
  toAddress: payee.address.toLowerCase(),
  ...extra,
});

type Suite = { t: TestApp; orders: OrderApi; payments: PaymentApi; agent: OrderAgent };

/** An app for the enclosing describe with `env()`, and one agent on it. */
function useApp(env: () => Record<string, string>): Suite {
  const suite = {} as Suite;
  usePaymentAgent({ clock: new ControllableClock(T0), catalog, env }, ({ t, orders, payments, agent }) =>
    Object.assign(suite, { t, orders, payments, agent }),
  );
  return suite;
}

/** An order of `serviceId` with its payment intent. */
const pending = (s: Suite, serviceId = 'pay.wallet', intent: Record<string, unknown> = {}) =>
  s.payments.placeWithIntent(s.agent, serviceId, intent);

describe('rpc verification against anvil (§7.6)', () => {
  const s = useApp(() => chainEnv());

  it('a real transfer: 200, held, blockNumber and confirmations recorded; a wallet payment becomes wdk-usdt-transfer; the order goes ready', async () => {
    const { order, payment } = await pending(s);
    const before = await usdt.balanceOf(payee.address);
    const { hash, block } = await paid(payer, payee.address, PRICE_RAW);
    await anvil.mine(2);
    const head = await anvil.blockNumber();

    const response = await s.payments.proof(order.id, s.agent.token, rpcProof(hash.toUpperCase().replace('0X', '0x')));

    expect(response.status).toBe(200);
    const item = response.body.item;
    expectPaymentShape(item);
    expect(item).toEqual({
      ...payment,
      type: 'wdk-usdt-transfer',
      status: 'held',
      heldAt: T0,
      updatedAt: T0,
      proof: {
        verificationMode: 'rpc',
        network: 'evm',
        txHash: hash.toLowerCase(),
        chainId: anvil.chainId,
        tokenAddress: usdt.address,
        tokenDecimals: 6,
        amount: '2.5',
        fromAddress: payer.address,
        toAddress: payee.address,
        blockNumber: Number(block),
        confirmations: Number(head - block + 1n),
        paymentHeadersFingerprint: null,
        settlement: null,
        recordedAt: T0,
      },
    });
    expect(item.proof.confirmations).toBe(3);
    expect(await usdt.balanceOf(payee.address)).toBe(before + PRICE_RAW);
    expect(await s.payments.order(order.id)).toEqual(expect.objectContaining({ status: 'ready' }));
    expect((await s.payments.get(order.id)).body.item).toEqual(item);
  });

  it('other rails keep their type (only wallet becomes wdk-usdt-transfer); an amount written with trailing zeros matches the raw amount', async () => {
    const { order } = await pending(s, 'pay.escrow');
    const { hash } = await paid(payer, payee.address, PRICE_RAW);
    const response = await s.payments.proof(order.id, s.agent.token, rpcProof(hash, { amount: '2.500000' }));
    expect(response.status).toBe(200);
    expect(response.body.item).toEqual(expect.objectContaining({ type: 'escrow', status: 'held' }));
    expect(response.body.item.proof.verificationMode).toBe('rpc');
  });

  it('not mined yet → 409 PAYMENT_NOT_MINED { confirmations: 0, required: 1 }, nothing stored; the same request succeeds once mined', async () => {
    const { order } = await pending(s);
    await anvil.setAutomine(false);
    let hash: Hash;
    try {
      hash = await usdt.transfer(payer, payee.address, PRICE_RAW);
      const response = await refusedWithoutEvents(s.t, () => s.payments.proof(order.id, s.agent.token, rpcProof(hash)));
      expectError(response, 409, 'PAYMENT_NOT_MINED');
      expect(response.body.error.details).toEqual({ confirmations: 0, required: 1 });
      expect((await s.payments.get(order.id)).body.item.status).toBe('intent_created');
      await anvil.mine(1);
    } finally {
      await anvil.setAutomine(true);
    }
    const retried = await s.payments.proof(order.id, s.agent.token, rpcProof(hash));
    expect(retried.status).toBe(200);
    expect(retried.body.item.proof.confirmations).toBe(1);
  });

  it('a reverted transfer → 402 PAYMENT_TX_FAILED { txHash, status }, nothing stored', async () => {
    const { order } = await pending(s);
    expect(await usdt.balanceOf(broke.address)).toBe(0n);
    const hash = await usdt.transfer(broke, payee.address, PRICE_RAW, { gas: 100_000n });
    expect((await anvil.receipt(hash)).status).toBe('reverted');

    const response = await refusedWithoutEvents(s.t, () =>
      s.payments.proof(order.id, s.agent.token, rpcProof(hash, { fromAddress: broke.address })),
    );

    expectError(response, 402, 'PAYMENT_TX_FAILED');
    expect(response.body.error.details).toEqual({ txHash: hash.toLowerCase(), status: '0x0' });
    expect((await s.payments.get(order.id)).body.item.status).toBe('intent_created');
  });

  describe('no matching Transfer log → 400 PAYMENT_TRANSFER_NOT_FOUND { tokenAddress, fromAddress, toAddress, rawAmount }', () => {
    const notFound = async (hash: Hash, extra: Record<string, unknown>, expected: Record<string, unknown>) => {
      const { order } = await pending(s);
      const response = await refusedWithoutEvents(s.t, () => s.payments.proof(order.id, s.agent.token, rpcProof(hash, extra)));
      expectError(response, 400, 'PAYMENT_TRANSFER_NOT_FOUND');
      expect(response.body.error.details).toEqual({
        tokenAddress: usdt.address,
        fromAddress: payer.address,
        toAddress: payee.address,
        rawAmount: '2500000',
        ...expected,
      });
      expect((await s.payments.get(order.id)).body.item.status).toBe('intent_created');
    };

    it('paid with another token', async () => {
      const { hash } = await paid(payer, payee.address, PRICE_RAW, usdx);
      await notFound(hash, {}, {});
    });

    it('paid to another recipient', async () => {
      const { hash } = await paid(payer, other.address, PRICE_RAW);
      await notFound(hash, {}, {});
    });

    it('paid another amount', async () => {
      const { hash } = await paid(payer, payee.address, 2_600_000n);
      await notFound(hash, {}, {});
    });

    it('paid by another sender', async () => {
      const { hash } = await paid(other, payee.address, PRICE_RAW);
      await notFound(hash, {}, {});
    });

    it('claimed with other tokenDecimals: the raw amount is amount × 10^tokenDecimals', async () => {
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      await notFound(hash, { tokenDecimals: 8 }, { rawAmount: '250000000' });
    });

    it('a transaction that is no token transfer at all (a plain ETH transfer)', async () => {
      const hash = await anvil.walletClient(payer).sendTransaction({ to: payee.address, value: 1n });
      await anvil.receipt(hash);
      await notFound(hash, {}, {});
    });
  });

  it('a payment on a chain the RPC is not on → 400 VALIDATION_ERROR chain_mismatch (expected and actual in the message)', async () => {
    const { order, payment } = await pending(s, 'pay.wallet', { chainId: 1, tokenAddress: usdt.address });
    expect(payment.chainId).toBe(1);
    const { hash } = await paid(payer, payee.address, PRICE_RAW);
    const response = await refusedWithoutEvents(s.t, () => s.payments.proof(order.id, s.agent.token, rpcProof(hash)));
    expectBodyIssue(response, '/chainId', 'chain_mismatch');
    expect(response.body.error.message).toContain(String(anvil.chainId));
    expect(response.body.error.message).toMatch(/\b1\b/);
  });

  it('a transaction hash the node does not know → 409 PAYMENT_NOT_MINED', async () => {
    const { order } = await pending(s);
    const response = await s.payments.proof(order.id, s.agent.token, rpcProof(randomTxHash()));
    expectError(response, 409, 'PAYMENT_NOT_MINED');
    expect(response.body.error.details).toEqual({ confirmations: 0, required: 1 });
  });

  describe('reuse (§7.5.5 step 8, §7.6)', () => {
    it('a verified transaction for a second order → 409 PAYMENT_PROOF_REUSED { orderId, txHash }, in rpc and recorded mode', async () => {
      const first = await pending(s);
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      expect((await s.payments.proof(first.order.id, s.agent.token, rpcProof(hash))).status).toBe(200);

      const second = await pending(s);
      for (const verificationMode of ['rpc', 'recorded']) {
        const response = await refusedWithoutEvents(s.t, () =>
          s.payments.proof(second.order.id, s.agent.token, rpcProof(hash, { verificationMode })),
        );
        expectError(response, 409, 'PAYMENT_PROOF_REUSED');
        expect(response.body.error.details).toEqual({ orderId: first.order.id, txHash: hash.toLowerCase() });
      }
    });

    it('two concurrent rpc proofs of one transaction for two orders: exactly one wins', async () => {
      const a = await pending(s);
      const b = await pending(s);
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      const [ra, rb] = await Promise.all([
        s.payments.proof(a.order.id, s.agent.token, rpcProof(hash)),
        s.payments.proof(b.order.id, s.agent.token, rpcProof(hash)),
      ]);
      expect([ra.status, rb.status].sort()).toEqual([200, 409]);
      const [winner, lost, loser] = ra.status === 200 ? [a, rb, b] : [b, ra, a];
      expectError(lost, 409, 'PAYMENT_PROOF_REUSED');
      expect(lost.body.error.details).toEqual({ orderId: winner.order.id, txHash: hash.toLowerCase() });
      expect((await s.payments.get(winner.order.id)).body.item.status).toBe('held');
      expect((await s.payments.get(loser.order.id)).body.item.status).toBe('intent_created');
    });

    it('a failed verification claims nothing: the transaction can back another order once it verifies', async () => {
      const a = await pending(s);
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      expectError(
        await s.payments.proof(a.order.id, s.agent.token, rpcProof(hash, { tokenDecimals: 8 })),
        400,
        'PAYMENT_TRANSFER_NOT_FOUND',
      );
      const b = await pending(s);
      expect((await s.payments.proof(b.order.id, s.agent.token, rpcProof(hash))).status).toBe(200);
    });
  });
});

describe('PEAQOS_PAYMENT_MIN_CONFIRMATIONS=3 (§7.6 step 6)', () => {
  const s = useApp(() => ({ ...chainEnv(), PEAQOS_PAYMENT_MIN_CONFIRMATIONS: '3' }));

  it('one confirmation → 409 PAYMENT_NOT_MINED { confirmations: 1, required: 3 }; after two more blocks → 200 with confirmations 3', async () => {
    const { order } = await pending(s);
    const { hash, block } = await paid(payer, payee.address, PRICE_RAW);
    expect(await anvil.blockNumber()).toBe(block);

    const early = await refusedWithoutEvents(s.t, () => s.payments.proof(order.id, s.agent.token, rpcProof(hash)));
    expectError(early, 409, 'PAYMENT_NOT_MINED');
    expect(early.body.error.details).toEqual({ confirmations: 1, required: 3 });

    await anvil.mine(1);
    const still = await s.payments.proof(order.id, s.agent.token, rpcProof(hash));
    expect(still.body.error.details).toEqual({ confirmations: 2, required: 3 });

    await anvil.mine(1);
    const response = await s.payments.proof(order.id, s.agent.token, rpcProof(hash));
    expect(response.status).toBe(200);
    expect(response.body.item.proof).toEqual(expect.objectContaining({ blockNumber: Number(block), confirmations: 3 }));
  });
});

describe('PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION=true (§2.2, §7.5.5 step 6)', () => {
  const s = useApp(() => ({ ...chainEnv(), PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION: 'true' }));

  it('an EVM proof asking for recorded is verified anyway: an unknown transaction → 409 PAYMENT_NOT_MINED', async () => {
    const { order } = await pending(s);
    const response = await refusedWithoutEvents(s.t, () =>
      s.payments.proof(order.id, s.agent.token, rpcProof(randomTxHash(), { verificationMode: 'recorded' })),
    );
    expectError(response, 409, 'PAYMENT_NOT_MINED');
  });

  it('a real transfer without verificationMode is recorded as rpc', async () => {
    const { order } = await pending(s);
    const { hash, block } = await paid(payer, payee.address, PRICE_RAW);
    const { verificationMode: _omitted, ...body } = rpcProof(hash);
    const response = await s.payments.proof(order.id, s.agent.token, body);
    expect(response.status).toBe(200);
    expect(response.body.item.type).toBe('wdk-usdt-transfer');
    expect(response.body.item.proof).toEqual(
      expect.objectContaining({ verificationMode: 'rpc', blockNumber: Number(block), confirmations: 1 }),
    );
  });

  it('Solana proofs stay recorded', async () => {
    const { order } = await pending(s, 'pay.solana');
    const response = await s.payments.proof(order.id, s.agent.token, {
      txHash: '3'.repeat(88),
      amount: '1',
      fromAddress: 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy',
      toAddress: SOLANA_PAY_TO,
    });
    expect(response.status).toBe(200);
    expect(response.body.item.proof.verificationMode).toBe('recorded');
  });
});

describe('the RPC URL variables (§2.2, §7.6 step 1)', () => {
  describe('PEAQOS_PAYMENT_RPC_URL on a closed port (it wins over PEAQ_EVM_RPC_URL)', () => {
    const s = useApp(() => chainEnv({ PEAQOS_PAYMENT_RPC_URL: closedUrl, PEAQ_EVM_RPC_URL: anvil.rpcUrl }));

    it('→ 502 PAYMENT_RPC_ERROR { method: eth_chainId, reason }; nothing stored', async () => {
      const { order } = await pending(s);
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      const response = await refusedWithoutEvents(s.t, () => s.payments.proof(order.id, s.agent.token, rpcProof(hash)));
      expectError(response, 502, 'PAYMENT_RPC_ERROR');
      expect(response.body.error.details).toEqual({ method: 'eth_chainId', reason: expect.any(String) });
      expect((await s.payments.get(order.id)).body.item.status).toBe('intent_created');
    });
  });

  describe('only PEAQ_EVM_RPC_URL (first fallback)', () => {
    const s = useApp(() => chainEnv({ PEAQ_EVM_RPC_URL: anvil.rpcUrl }));

    it('verifies against it', async () => {
      const { order } = await pending(s);
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      const response = await s.payments.proof(order.id, s.agent.token, rpcProof(hash));
      expect(response.status).toBe(200);
      expect(response.body.item.proof.verificationMode).toBe('rpc');
    });
  });

  describe('only PEAQOS_EVM_RPC_URL (second fallback)', () => {
    const s = useApp(() => chainEnv({ PEAQOS_EVM_RPC_URL: anvil.rpcUrl }));

    it('verifies against it', async () => {
      const { order } = await pending(s);
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      const response = await s.payments.proof(order.id, s.agent.token, rpcProof(hash));
      expect(response.status).toBe(200);
      expect(response.body.item.proof.verificationMode).toBe('rpc');
    });
  });

  describe('none set', () => {
    const s = useApp(() => chainEnv({}));

    it('rpc → 503 PAYMENT_RPC_REQUIRED; recorded still works', async () => {
      const { order } = await pending(s);
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      const response = await refusedWithoutEvents(s.t, () => s.payments.proof(order.id, s.agent.token, rpcProof(hash)));
      expectError(response, 503, 'PAYMENT_RPC_REQUIRED');
      const recorded = await s.payments.proof(order.id, s.agent.token, rpcProof(hash, { verificationMode: 'recorded' }));
      expect(recorded.status).toBe(200);
      expect(recorded.body.item.proof).toEqual(
        expect.objectContaining({ verificationMode: 'recorded', blockNumber: null, confirmations: null }),
      );
      expect(recorded.body.item.type).toBe('wallet');
    });
  });

  describe('an RPC that answers badly (a fake JSON-RPC server in front of anvil)', () => {
    let fake: FakeRpcServer;
    let reply: (request: RpcRequest) => FakeReply | Promise<FakeReply>;
    beforeAll(async () => {
      fake = await startFakeRpc((request) => reply(request));
    });
    afterAll(async () => {
      await fake.close();
    });
    const s = useApp(() => chainEnv({ PEAQOS_PAYMENT_RPC_URL: fake.url }));

    // §7.6 step 1 names the failures but not the `reason` values, so only `method` is pinned down.
    it.each<[string, (request: RpcRequest) => FakeReply | Promise<FakeReply>, string]>([
      ['HTTP 500', () => ({ status: 500, contentType: 'text/plain', body: 'boom' }), 'eth_chainId'],
      [
        'a JSON-RPC error',
        (request) => ({ body: JSON.stringify({ jsonrpc: '2.0', id: request.id ?? null, error: { code: -32000, message: 'nope' } }) }),
        'eth_chainId',
      ],
      ['a body that is not JSON', () => ({ body: 'not json' }), 'eth_chainId'],
      [
        'a receipt that is not an object',
        async (request) =>
          request.method === 'eth_getTransactionReceipt'
            ? rpcResult(request, 42)
            : rpcResult(request, (await forwardRpc(anvil.rpcUrl, request)).result),
        'eth_getTransactionReceipt',
      ],
      [
        'a block number that is not a hex quantity',
        async (request) =>
          request.method === 'eth_blockNumber'
            ? rpcResult(request, 'latest')
            : rpcResult(request, (await forwardRpc(anvil.rpcUrl, request)).result),
        'eth_blockNumber',
      ],
    ])('%s → 502 PAYMENT_RPC_ERROR { method, reason }', async (_name, handler, method) => {
      reply = handler;
      const { order } = await pending(s);
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      const response = await refusedWithoutEvents(s.t, () => s.payments.proof(order.id, s.agent.token, rpcProof(hash)));
      expectError(response, 502, 'PAYMENT_RPC_ERROR');
      expect(response.body.error.details).toEqual({ method, reason: expect.any(String) });
    });

    it('a node behind the receipt’s block → PAYMENT_NOT_MINED with the confirmations it sees', async () => {
      reply = async (request) => {
        const forwarded = await forwardRpc(anvil.rpcUrl, request);
        if (request.method !== 'eth_blockNumber') return rpcResult(request, forwarded.result);
        return rpcResult(request, `0x${(BigInt(forwarded.result as string) - 1n).toString(16)}`);
      };
      const { order } = await pending(s);
      const { hash } = await paid(payer, payee.address, PRICE_RAW);
      const response = await s.payments.proof(order.id, s.agent.token, rpcProof(hash));
      expectError(response, 409, 'PAYMENT_NOT_MINED');
      expect(response.body.error.details).toEqual({ confirmations: 0, required: 1 });
    });
  });
});
