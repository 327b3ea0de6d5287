import { parseUnits, type Address, type Hash } from 'viem';
import { paymentFailureError } from '../../application/payments/payment-failure-errors';
import { Erc20TransferProof, PaymentFailure, PaymentVerification } from '../../application/ports/payment-verifier.port';
import { ERROR_STATUS } from '../../http/errors/error-response';
import {
  closedPortUrl,
  deployErc20,
  forwardRpc,
  rpcResult,
  startAnvil,
  startFakeRpc,
  TEST_TOKEN_ABI,
  type Anvil,
  type FakeReply,
  type FakeRpcServer,
  type RpcRequest,
  type TestErc20,
} from '../../../test/support/anvil';
import { ViemPaymentVerifier } from './payment-verifier.viem';

/**
 * §7.6 against a real anvil node and a real ERC-20 (test/support/anvil), with real transfers signed
 * by anvil's funded accounts; malformed, failing and hanging RPCs are small local HTTP servers.
 */

const STEP_TIMEOUT = 15_000;
const UNKNOWN_TX = `0x${'ab'.repeat(32)}` as Hash;
const usdt = (amount: string) => parseUnits(amount, 6);

let anvil: Anvil;
let token: TestErc20;
let otherToken: TestErc20;
let payer: Address;
let payee: Address;
let stranger: Address;
const verifier = new ViemPaymentVerifier();

beforeAll(async () => {
  anvil = await startAnvil();
  [token, otherToken] = [await deployErc20(anvil, { symbol: 'USDT' }), await deployErc20(anvil, { symbol: 'USDX' })];
  payer = anvil.accounts[1].address;
  payee = anvil.accounts[2].address;
  stranger = anvil.accounts[3].address;
  await token.mint(payer, usdt('1000'));
  await otherToken.mint(payer, usdt('1000'));
}, 30_000);

afterAll(async () => {
  await anvil?.stop();
});

/** A mined transfer of `amount` USDT (or of `via`) from the payer to the payee. */
async function pay(amount: string, via: TestErc20 = token, to: Address = payee): Promise<Hash> {
  const hash = await via.transfer(anvil.accounts[1], to, usdt(amount));
  expect((await anvil.receipt(hash)).status).toBe('success');
  return hash;
}

function proofOf(txHash: string, overrides: Partial<Erc20TransferProof> = {}): Erc20TransferProof {
  return {
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    txHash,
    tokenAddress: token.address,
    decimals: 6,
    fromAddress: payer,
    toAddress: payee,
    amount: '10',
    minConfirmations: 1,
    ...overrides,
  };
}

function failureOf(result: PaymentVerification): PaymentFailure {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.failure;
}

/** The API error a failure becomes: code, HTTP status and details. */
function apiError(result: PaymentVerification) {
  const error = paymentFailureError(failureOf(result));
  return { code: error.code, status: ERROR_STATUS[error.code], details: error.details };
}

describe('ViemPaymentVerifier (§7.6) against anvil', () => {
  describe('a matching transfer', () => {
    it(
      'verifies token, sender, recipient and the exact raw amount, and reports block and confirmations',
      async () => {
        const hash = await pay('10.5');
        const receipt = await anvil.receipt(hash);
        const result = await verifier.verifyErc20Transfer(proofOf(hash, { amount: '10.5' }));
        expect(result).toEqual({
          ok: true,
          value: {
            blockNumber: Number(receipt.blockNumber),
            blockHash: receipt.blockHash,
            confirmations: 1,
            rawAmount: '10500000',
            logIndex: 0,
          },
        });
      },
      STEP_TIMEOUT,
    );

    it(
      'accepts a proof above the order amount when the transfer is of that amount (§7.5.5: amount >= expected)',
      async () => {
        // The order expects 10; the payer sent and proves 12.25. The ">=" rule is the handler's
        // (§7.5.5 step 7); the log must carry exactly the proof's amount (§7.6 step 5).
        const hash = await pay('12.25');
        const result = await verifier.verifyErc20Transfer(proofOf(hash, { amount: '12.25' }));
        expect(result.ok && result.value.rawAmount).toBe('12250000');
      },
      STEP_TIMEOUT,
    );

    it(
      'matches addresses and the tx hash case-insensitively and reports addresses in EIP-55',
      async () => {
        const hash = await pay('1');
        const lower = proofOf(hash.toUpperCase().replace('0X', '0x'), {
          amount: '1',
          tokenAddress: token.address.toLowerCase(),
          fromAddress: payer.toLowerCase(),
          toAddress: payee.toUpperCase().replace('0X', '0x'),
        });
        expect((await verifier.verifyErc20Transfer(lower)).ok).toBe(true);
        const failure = failureOf(await verifier.verifyErc20Transfer({ ...lower, amount: '2' }));
        expect(failure).toMatchObject({ tokenAddress: token.address, fromAddress: payer, toAddress: payee });
      },
      STEP_TIMEOUT,
    );

    it(
      'finds the Transfer among other logs of the same transaction (mint logs from the zero address do not match a payer)',
      async () => {
        const minted = await token.mint(payee, usdt('5'));
        const asPayer = await verifier.verifyErc20Transfer(proofOf(minted, { amount: '5' }));
        expect(apiError(asPayer).code).toBe('PAYMENT_TRANSFER_NOT_FOUND');
        const fromZero = await verifier.verifyErc20Transfer(proofOf(minted, { amount: '5', fromAddress: `0x${'0'.repeat(40)}` }));
        expect(fromZero.ok).toBe(true);
      },
      STEP_TIMEOUT,
    );
  });

  describe('confirmations (steps 3 and 6)', () => {
    it(
      'answers 409 PAYMENT_NOT_MINED {confirmations: 0} while the transaction waits in the pool, and verifies once mined',
      async () => {
        await anvil.setAutomine(false);
        try {
          const hash = await token.transfer(anvil.accounts[1], payee, usdt('3'));
          const pending = await verifier.verifyErc20Transfer(proofOf(hash, { amount: '3' }));
          expect(apiError(pending)).toEqual({ code: 'PAYMENT_NOT_MINED', status: 409, details: { confirmations: 0, required: 1 } });
          await anvil.mine(1);
          const mined = await verifier.verifyErc20Transfer(proofOf(hash, { amount: '3' }));
          expect(mined.ok && mined.value.confirmations).toBe(1);
        } finally {
          await anvil.setAutomine(true);
        }
      },
      STEP_TIMEOUT,
    );

    it(
      'answers PAYMENT_NOT_MINED for an unknown transaction hash',
      async () => {
        const result = await verifier.verifyErc20Transfer(proofOf(UNKNOWN_TX, { minConfirmations: 2 }));
        expect(apiError(result)).toEqual({ code: 'PAYMENT_NOT_MINED', status: 409, details: { confirmations: 0, required: 2 } });
      },
      STEP_TIMEOUT,
    );

    it(
      'counts confirmations as head − receipt block + 1 and needs minConfirmations of them',
      async () => {
        const hash = await pay('4');
        const first = await verifier.verifyErc20Transfer(proofOf(hash, { amount: '4', minConfirmations: 3 }));
        expect(apiError(first)).toEqual({ code: 'PAYMENT_NOT_MINED', status: 409, details: { confirmations: 1, required: 3 } });
        await anvil.mine(1);
        const second = await verifier.verifyErc20Transfer(proofOf(hash, { amount: '4', minConfirmations: 3 }));
        expect(failureOf(second)).toEqual({ kind: 'not_mined', confirmations: 2, required: 3 });
        await anvil.mine(1);
        const third = await verifier.verifyErc20Transfer(proofOf(hash, { amount: '4', minConfirmations: 3 }));
        expect(third.ok && third.value.confirmations).toBe(3);
      },
      STEP_TIMEOUT,
    );
  });

  describe('a failed transaction (step 4)', () => {
    it(
      'answers 402 PAYMENT_TX_FAILED with the raw receipt status for a transfer mined as reverted',
      async () => {
        // The stranger holds no tokens: the transfer reverts. A manual gas limit skips estimation, so it is mined.
        const hash = await token.transfer(anvil.accounts[3], payee, usdt('10'), { gas: 100_000n });
        expect((await anvil.receipt(hash)).status).toBe('reverted');
        const result = await verifier.verifyErc20Transfer(proofOf(hash, { fromAddress: stranger }));
        expect(apiError(result)).toEqual({ code: 'PAYMENT_TX_FAILED', status: 402, details: { txHash: hash, status: '0x0' } });
      },
      STEP_TIMEOUT,
    );
  });

  describe('no matching Transfer log (step 5)', () => {
    let hash: Hash;
    beforeAll(async () => {
      hash = await pay('10');
    }, STEP_TIMEOUT);

    it.each([
      ['another token', () => ({ tokenAddress: otherToken.address }), () => otherToken.address, () => payer, () => payee, '10000000'],
      ['another recipient', () => ({ toAddress: stranger }), () => token.address, () => payer, () => stranger, '10000000'],
      ['another sender', () => ({ fromAddress: stranger }), () => token.address, () => stranger, () => payee, '10000000'],
      ['a larger amount', () => ({ amount: '10.000001' }), () => token.address, () => payer, () => payee, '10000001'],
      ['a smaller amount', () => ({ amount: '9.99' }), () => token.address, () => payer, () => payee, '9990000'],
      ['other decimals', () => ({ decimals: 18 }), () => token.address, () => payer, () => payee, '10000000000000000000'],
    ] as const)(
      'answers 400 PAYMENT_TRANSFER_NOT_FOUND for %s',
      async (_label, overrides, tokenAddress, fromAddress, toAddress, rawAmount) => {
        const result = await verifier.verifyErc20Transfer(proofOf(hash, overrides()));
        expect(apiError(result)).toEqual({
          code: 'PAYMENT_TRANSFER_NOT_FOUND',
          status: 400,
          details: { tokenAddress: tokenAddress(), fromAddress: fromAddress(), toAddress: toAddress(), rawAmount },
        });
      },
      STEP_TIMEOUT,
    );

    it(
      'does not accept the expected amount against a larger transfer (the log must equal the proof amount)',
      async () => {
        const larger = await pay('12.5');
        const result = await verifier.verifyErc20Transfer(proofOf(larger, { amount: '10' }));
        expect(failureOf(result)).toMatchObject({ kind: 'transfer_not_found', rawAmount: '10000000' });
      },
      STEP_TIMEOUT,
    );

    it(
      'does not take an Approval log of the same shape (token, owner, spender, value) for a Transfer',
      async () => {
        const approval = await anvil
          .walletClient(anvil.accounts[1])
          .writeContract({ address: token.address, abi: TEST_TOKEN_ABI, functionName: 'approve', args: [payee, usdt('10')] });
        expect((await anvil.receipt(approval)).logs).toHaveLength(1);
        const result = await verifier.verifyErc20Transfer(proofOf(approval));
        expect(failureOf(result)).toMatchObject({ kind: 'transfer_not_found' });
      },
      STEP_TIMEOUT,
    );

    it(
      'does not accept a transfer of the same amount in a second token contract',
      async () => {
        const viaOther = await pay('10', otherToken);
        const result = await verifier.verifyErc20Transfer(proofOf(viaOther));
        expect(failureOf(result)).toMatchObject({ kind: 'transfer_not_found', tokenAddress: token.address });
      },
      STEP_TIMEOUT,
    );
  });

  describe('chain id (step 2)', () => {
    it(
      'answers 400 VALIDATION_ERROR chain_mismatch, before looking at the transaction, with expected and actual in the message',
      async () => {
        const result = await verifier.verifyErc20Transfer(proofOf(UNKNOWN_TX, { chainId: 3338 }));
        expect(failureOf(result)).toEqual({ kind: 'chain_mismatch', expected: 3338, actual: '31337' });
        const error = paymentFailureError(failureOf(result));
        expect(apiError(result)).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, details: { reason: 'chain_mismatch' } });
        expect(error.message).toContain('3338');
        expect(error.message).toContain('31337');
      },
      STEP_TIMEOUT,
    );
  });

  describe('inputs, checked before any RPC call', () => {
    it.each([
      ['too many fractional digits', { amount: '1.0000001' }, 'amount', 'amount_precision'],
      ['trailing zeros beyond the decimals', { amount: '1.5000000' }, 'amount', 'amount_precision'],
      ['a non-decimal amount', { amount: '1e6' }, 'amount', undefined],
      ['a negative amount', { amount: '-1' }, 'amount', undefined],
      ['a short tx hash', { txHash: '0x1234' }, 'txHash', undefined],
      ['a bad token address', { tokenAddress: '0x1234' }, 'tokenAddress', undefined],
      ['bad decimals', { decimals: 37 }, 'tokenDecimals', undefined],
    ] as const)('refuses %s as VALIDATION_ERROR', async (_label, overrides, field, reason) => {
      // A closed port: a request made anyway would fail as PAYMENT_RPC_ERROR instead.
      const result = await verifier.verifyErc20Transfer(proofOf(UNKNOWN_TX, { rpcUrl: await closedPortUrl(), ...overrides }));
      expect(failureOf(result)).toMatchObject({ kind: 'invalid_input', field });
      expect(apiError(result)).toMatchObject({
        code: 'VALIDATION_ERROR',
        status: 400,
        details: { ...(reason ? { reason } : {}), errors: [{ location: 'body', path: `/${field}` }] },
      });
    });

    it('throws on a minConfirmations below 1 (a configuration bug, not a request error)', async () => {
      await expect(verifier.verifyErc20Transfer(proofOf(UNKNOWN_TX, { minConfirmations: 0 }))).rejects.toThrow(RangeError);
    });
  });
});

describe('ViemPaymentVerifier (§7.6 step 1): RPC URL and RPC failures', () => {
  const quick = new ViemPaymentVerifier({ callTimeoutMs: 300 });
  let fake: FakeRpcServer | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  /** A fake RPC that forwards to anvil except for the methods the test overrides. */
  async function fakeRpc(overrides: Record<string, (request: RpcRequest) => FakeReply | Promise<FakeReply>>): Promise<string> {
    fake = await startFakeRpc(async (request) => {
      const override = overrides[request.method];
      if (override) return override(request);
      return { body: JSON.stringify({ jsonrpc: '2.0', id: request.id, ...(await forwardRpc(anvil.rpcUrl, request)) }) };
    });
    return fake.url;
  }

  it.each([undefined, ''])('answers 503 PAYMENT_RPC_REQUIRED without an RPC URL (%p)', async (rpcUrl) => {
    const result = await quick.verifyErc20Transfer(proofOf(UNKNOWN_TX, { rpcUrl }));
    expect(apiError(result)).toEqual({ code: 'PAYMENT_RPC_REQUIRED', status: 503, details: undefined });
  });

  it(
    'answers 502 PAYMENT_RPC_ERROR network when nothing listens',
    async () => {
      const result = await quick.verifyErc20Transfer(proofOf(UNKNOWN_TX, { rpcUrl: await closedPortUrl() }));
      expect(apiError(result)).toEqual({ code: 'PAYMENT_RPC_ERROR', status: 502, details: { method: 'eth_chainId', reason: 'network' } });
    },
    STEP_TIMEOUT,
  );

  it(
    'answers PAYMENT_RPC_ERROR timeout when the RPC never answers, within the call timeout',
    async () => {
      const url = await fakeRpc({ eth_chainId: () => 'hang' });
      const started = Date.now();
      const result = await quick.verifyErc20Transfer(proofOf(UNKNOWN_TX, { rpcUrl: url }));
      expect(apiError(result)).toEqual({ code: 'PAYMENT_RPC_ERROR', status: 502, details: { method: 'eth_chainId', reason: 'timeout' } });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(fake!.methods).toEqual(['eth_chainId']); // no retry
    },
    STEP_TIMEOUT,
  );

  it('uses a 10-second call timeout by default (§7.6 step 1)', () => {
    expect((new ViemPaymentVerifier() as unknown as { callTimeoutMs: number }).callTimeoutMs).toBe(10_000);
  });

  it.each<[string, (request: RpcRequest) => FakeReply, string, string]>([
    ['a body that is not JSON', () => ({ contentType: 'text/plain', body: 'hello' }), 'eth_chainId', 'malformed_result'],
    ['invalid JSON declared as JSON', () => ({ body: '{"jsonrpc":' }), 'eth_chainId', 'malformed_result'],
    ['a JSON null body', () => ({ body: 'null' }), 'eth_chainId', 'malformed_result'],
    ['JSON that is not JSON-RPC', () => ({ body: '{"hello":"world"}' }), 'eth_chainId', 'malformed_result'],
    ['a result that is not a hex quantity', (request) => rpcResult(request, 'banana'), 'eth_chainId', 'malformed_result'],
    ['a numeric chain id', (request) => rpcResult(request, 31337), 'eth_chainId', 'malformed_result'],
    [
      'a JSON-RPC error member',
      (request) => ({ body: JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32000, message: 'boom' } }) }),
      'eth_chainId',
      'rpc_error',
    ],
    ['HTTP 500', () => ({ status: 500, contentType: 'text/plain', body: 'oops' }), 'eth_chainId', 'http_status'],
    [
      'HTTP 503 with a JSON-RPC error body',
      (request) => ({ status: 503, body: JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32005, message: 'limited' } }) }),
      'eth_chainId',
      'http_status',
    ],
  ])(
    'answers PAYMENT_RPC_ERROR for %s',
    async (_label, reply, method, reason) => {
      const url = await fakeRpc({ eth_chainId: reply });
      const result = await quick.verifyErc20Transfer(proofOf(UNKNOWN_TX, { rpcUrl: url }));
      expect(apiError(result)).toEqual({ code: 'PAYMENT_RPC_ERROR', status: 502, details: { method, reason } });
    },
    STEP_TIMEOUT,
  );

  describe('later calls (anvil behind a rewriting proxy)', () => {
    let hash: Hash;
    beforeAll(async () => {
      hash = await pay('7');
    }, STEP_TIMEOUT);

    /** anvil's receipt for the request, rewritten. */
    const rewriteReceipt =
      (rewrite: (receipt: Record<string, unknown>) => unknown) =>
      async (request: RpcRequest): Promise<FakeReply> => {
        const { result } = await forwardRpc(anvil.rpcUrl, request);
        return rpcResult(request, rewrite(result as Record<string, unknown>));
      };

    it.each<[string, Record<string, unknown>, string]>([
      ['a receipt that is not an object', { receipt: 'yes' }, 'eth_getTransactionReceipt'],
      ['a receipt without logs', { logs: undefined }, 'eth_getTransactionReceipt'],
      ['a receipt for another transaction', { transactionHash: UNKNOWN_TX }, 'eth_getTransactionReceipt'],
      ['a receipt without status', { status: undefined }, 'eth_getTransactionReceipt'],
      ['a receipt with a bad block number', { blockNumber: 12 }, 'eth_getTransactionReceipt'],
      ['a receipt with a malformed log', { logs: [{ address: 'nope', topics: [], data: '0x' }] }, 'eth_getTransactionReceipt'],
    ])(
      'answers PAYMENT_RPC_ERROR malformed_result for %s',
      async (_label, patch, method) => {
        const url = await fakeRpc({
          eth_getTransactionReceipt: rewriteReceipt((receipt) => ('receipt' in patch ? patch.receipt : { ...receipt, ...patch })),
        });
        const result = await quick.verifyErc20Transfer(proofOf(hash, { rpcUrl: url, amount: '7' }));
        expect(apiError(result)).toEqual({ code: 'PAYMENT_RPC_ERROR', status: 502, details: { method, reason: 'malformed_result' } });
      },
      STEP_TIMEOUT,
    );

    it(
      'answers PAYMENT_RPC_ERROR on eth_blockNumber when only the head cannot be read',
      async () => {
        const url = await fakeRpc({ eth_blockNumber: () => 'hang' });
        const result = await quick.verifyErc20Transfer(proofOf(hash, { rpcUrl: url, amount: '7' }));
        expect(failureOf(result)).toEqual({ kind: 'rpc_error', method: 'eth_blockNumber', reason: 'timeout' });
        expect(fake!.methods).toEqual(['eth_chainId', 'eth_getTransactionReceipt', 'eth_blockNumber']);
      },
      STEP_TIMEOUT,
    );

    it(
      'ignores a Transfer log marked removed (a reorganised block)',
      async () => {
        const url = await fakeRpc({
          eth_getTransactionReceipt: rewriteReceipt((receipt) => ({
            ...receipt,
            logs: (receipt.logs as Record<string, unknown>[]).map((log) => ({ ...log, removed: true })),
          })),
        });
        const result = await quick.verifyErc20Transfer(proofOf(hash, { rpcUrl: url, amount: '7' }));
        expect(failureOf(result)).toMatchObject({ kind: 'transfer_not_found', rawAmount: '7000000' });
      },
      STEP_TIMEOUT,
    );

    it(
      'needs exactly three topics (an ERC-721-style Transfer with an indexed fourth topic does not match)',
      async () => {
        const url = await fakeRpc({
          eth_getTransactionReceipt: rewriteReceipt((receipt) => ({
            ...receipt,
            logs: (receipt.logs as { topics: string[] }[]).map((log) => ({ ...log, topics: [...log.topics, `0x${'0'.repeat(63)}7`] })),
          })),
        });
        const result = await quick.verifyErc20Transfer(proofOf(hash, { rpcUrl: url, amount: '7' }));
        expect(failureOf(result)).toMatchObject({ kind: 'transfer_not_found' });
      },
      STEP_TIMEOUT,
    );

    it(
      'treats a receipt without a block as not mined',
      async () => {
        const url = await fakeRpc({ eth_getTransactionReceipt: rewriteReceipt((receipt) => ({ ...receipt, blockNumber: null })) });
        const result = await quick.verifyErc20Transfer(proofOf(hash, { rpcUrl: url, amount: '7' }));
        expect(failureOf(result)).toEqual({ kind: 'not_mined', confirmations: 0, required: 1 });
      },
      STEP_TIMEOUT,
    );

    it(
      'counts 0 confirmations when the head is behind the receipt block (a lagging node)',
      async () => {
        const block = (await anvil.receipt(hash)).blockNumber;
        const url = await fakeRpc({ eth_blockNumber: (request) => rpcResult(request, `0x${(block - 1n).toString(16)}`) });
        const result = await quick.verifyErc20Transfer(proofOf(hash, { rpcUrl: url, amount: '7' }));
        expect(failureOf(result)).toEqual({ kind: 'not_mined', confirmations: 0, required: 1 });
      },
      STEP_TIMEOUT,
    );

    it(
      'checks status before logs and logs before confirmations',
      async () => {
        const url = await fakeRpc({
          eth_getTransactionReceipt: rewriteReceipt((receipt) => ({ ...receipt, status: '0x0' })),
          eth_blockNumber: () => 'hang',
        });
        const failed = await quick.verifyErc20Transfer(proofOf(hash, { rpcUrl: url, amount: '8' }));
        expect(failureOf(failed)).toEqual({ kind: 'tx_failed', txHash: hash, status: '0x0' });
        await fake!.close();

        const url2 = await fakeRpc({ eth_blockNumber: () => 'hang' });
        const wrongAmount = await quick.verifyErc20Transfer(proofOf(hash, { rpcUrl: url2, amount: '8' }));
        expect(failureOf(wrongAmount)).toMatchObject({ kind: 'transfer_not_found' });
        expect(fake!.methods).toEqual(['eth_chainId', 'eth_getTransactionReceipt']);
      },
      STEP_TIMEOUT,
    );
  });
});
