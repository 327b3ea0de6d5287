import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileAdapter, fileService, fileSkill, fixedPrice } from './catalog-fixture';
import { ControllableClock } from './controllable-clock';
import { closedPortUrl } from './anvil';
import { ISO_MS } from './machine-api';
import { OrderAgent, OrderApi, UnverifiedFixtures } from './order-api';
import { FREE_PAYMENT, X402_PAYMENT } from './order-catalog';
import { TOKEN_HEADER } from './pairing-api';
import { startTestApp, TestApp, TestAppOverrides, TestResponse } from './test-app';

/** Helpers for the payment e2e suites (§7.4, §7.5.4–§7.5.9, §7.6, §9). */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- catalogue files and response bodies are JSON
export type Json = any;

export const PAYMENT_ID = /^pay_[0-9A-HJKMNP-TV-Z]{26}$/;
export const SHA256_HEX = /^[0-9a-f]{64}$/;
export { ISO_MS };

/** Machines and pairings without proofs (identity is tested elsewhere); no MCR call ever happens in `disabled` mode. */
export const UNVERIFIED = { PEAQOS_MACHINE_IDENTITY_VERIFICATION: 'disabled', PEAQOS_AGENT_PAIRING_VERIFICATION: 'disabled' };

/**
 * The chain of the suites whose proofs are recorded, not verified by a node (no node runs): anvil's
 * chain id, its accounts 1 and 2 (EIP-55) as payer and payee, and as the USDT token the address of the
 * first contract its account 0 deploys.
 */
export const CHAIN_ID = 31337;
export const PAYER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
export const PAYEE = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
export const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
/** PEAQOS_USDT_DECIMALS of CHAIN_ENV. */
export const DECIMALS = 6;
/** The payment variables (§2.2) of that chain: PEAQOS_CHAIN_ID, PEAQOS_USDT_CONTRACT and PEAQOS_USDT_DECIMALS. */
export const CHAIN_ENV = { PEAQOS_CHAIN_ID: String(CHAIN_ID), PEAQOS_USDT_CONTRACT: TOKEN, PEAQOS_USDT_DECIMALS: String(DECIMALS) };

/** §7.2 `MarketPaymentRecord`: exactly these members. */
export const PAYMENT_MEMBERS = [
  'id',
  'orderId',
  'machineId',
  'type',
  'status',
  'required',
  'amount',
  'currency',
  'network',
  'chainId',
  'tokenAddress',
  'tokenDecimals',
  'payerAddress',
  'payTo',
  'challenge',
  'proof',
  'escrow',
  'refundReason',
  'heldAt',
  'releasePendingAt',
  'releasedAt',
  'frozenAt',
  'refundedAt',
  'createdAt',
  'updatedAt',
].sort();

/** §7.2 `MarketPaymentProof`: exactly these members. */
export const PROOF_MEMBERS = [
  'verificationMode',
  'network',
  'txHash',
  'chainId',
  'tokenAddress',
  'tokenDecimals',
  'amount',
  'fromAddress',
  'toAddress',
  'blockNumber',
  'confirmations',
  'paymentHeadersFingerprint',
  'settlement',
  'recordedAt',
].sort();

/** §7.2: exactly the documented members, a `pay_` id, ISO timestamps. */
export function expectPaymentShape(item: Json): void {
  expect(Object.keys(item).sort()).toEqual(PAYMENT_MEMBERS);
  expect(item.id).toMatch(PAYMENT_ID);
  expect(item.createdAt).toMatch(ISO_MS);
  expect(item.updatedAt).toMatch(ISO_MS);
  if (item.proof !== null) expect(Object.keys(item.proof).sort()).toEqual(PROOF_MEMBERS);
  if (item.escrow !== null) expect(Object.keys(item.escrow).sort()).toEqual(['amount', 'chainId', 'escrowAddress', 'lockedAt', 'txHash']);
  if (item.challenge !== null) {
    expect(Object.keys(item.challenge).sort()).toEqual(['fetchedAt', 'headers', 'httpStatus', 'paymentRequired', 'protocol']);
  }
}

// ---------------------------------------------------------------------------------------------------
// §9 fingerprints, computed independently of the implementation
// ---------------------------------------------------------------------------------------------------

/** RFC 8785 for the flat string objects `PaymentHeaders` are: members sorted by UTF-16 code units. */
export function canonicalStringObject(value: Record<string, string>): string {
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k])}`).join(',')}}`;
}

/** §9: SHA-256 hex of the canonical JSON of the present `PaymentHeaders` members. */
export function headersFingerprint(headers: Record<string, string>): string {
  return createHash('sha256').update(canonicalStringObject(headers), 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------------
// The payment routes
// ---------------------------------------------------------------------------------------------------

type Headers = Record<string, string>;
const tokenHeader = (token: string | undefined): Headers => (token === undefined ? {} : { [TOKEN_HEADER]: token });

export const orderUrl = (orderId: string) => `/api/v1/market/orders/${orderId}`;

/** The payment routes of one test app; agent routes take the pairing token. */
export class PaymentApi {
  constructor(readonly t: TestApp) {}

  /** Bodies default to `{}`: routes with a documented (all-optional) body require a JSON object here. */
  intent(orderId: string, token: string | undefined, body: unknown = {}, query = '', headers: Headers = {}): Promise<TestResponse> {
    return this.post(`${orderUrl(orderId)}/payment-intent${query}`, token, body, headers);
  }

  proof(orderId: string, token: string | undefined, body: unknown, headers: Headers = {}): Promise<TestResponse> {
    return this.post(`${orderUrl(orderId)}/payment-proof`, token, body, headers);
  }

  escrowLock(orderId: string, token: string | undefined, body: unknown = {}): Promise<TestResponse> {
    return this.post(`${orderUrl(orderId)}/payment/escrow-lock`, token, body);
  }

  /** Operator action: no pairing token. */
  release(orderId: string): Promise<TestResponse> {
    return this.post(`${orderUrl(orderId)}/payment/release`, undefined, undefined);
  }

  /** Operator action: no pairing token. */
  refund(orderId: string, body: unknown = {}): Promise<TestResponse> {
    return this.post(`${orderUrl(orderId)}/payment/refund`, undefined, body);
  }

  get(orderId: string): Promise<TestResponse> {
    return this.t.inject({ method: 'GET', url: `${orderUrl(orderId)}/payment` });
  }

  async order(orderId: string): Promise<Json> {
    const response = await this.t.inject({ method: 'GET', url: orderUrl(orderId) });
    if (response.status !== 200) throw new Error(`order ${orderId}: ${response.status} ${response.text}`);
    return response.body.item;
  }

  /** The intent, failing loudly unless it answers 201. */
  async intended(orderId: string, token: string, body: unknown = {}): Promise<Json> {
    const response = await this.intent(orderId, token, body);
    if (response.status !== 201) throw new Error(`intent ${orderId}: ${response.status} ${response.text}`);
    return response.body.item;
  }

  /** An order of `serviceId` by the agent (placeOrder) and its payment intent (`intent` is the body), failing loudly. */
  async placeWithIntent(agent: OrderAgent, serviceId: string, intent: unknown = {}): Promise<{ order: Json; payment: Json }> {
    const order = await placeOrder(new OrderApi(this.t), agent, serviceId);
    const payment = await this.intended(order.id, agent.token, intent);
    return { order, payment };
  }

  /** Events of the order's stream, in order. */
  async orderEvents(orderId: string) {
    return (await this.t.storedEvents()).filter((e) => e.streamId === `market-order-${orderId}`);
  }

  private post(url: string, token: string | undefined, body: unknown, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({
      method: 'POST',
      url,
      headers: { ...tokenHeader(token), ...headers },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// A payment catalogue
// ---------------------------------------------------------------------------------------------------

/** Where the on-chain payments of a catalogue go. */
export type PaymentChain = {
  /** The token services on the test chain carry (the deployed ERC-20). */
  token: string;
  /** The payee the services carry (an address the test controls). */
  payTo: string;
  /** `eip155:<chainId>` network of the services on the test chain. */
  chainId: number;
};

/**
 * A required §2.5 `payment` block of `amount` USDT on `chain` (CHAIN_ID, PAYEE and TOKEN unless told),
 * on `rails`: the first is the default rail.
 */
export function onChainPayment(
  rails: string[],
  chain: PaymentChain = { token: TOKEN, payTo: PAYEE, chainId: CHAIN_ID },
  amount = '2.5',
): Json {
  return {
    defaultRail: rails[0],
    required: true,
    supportedRails: rails,
    amount,
    currency: 'USDT',
    payTo: chain.payTo,
    network: `eip155:${chain.chainId}`,
    tokenAddress: chain.token,
  };
}

export type PaymentCatalogOptions = PaymentChain & {
  /** Base URL of the x402 test provider (its routes are `/json`, `/header`, …). */
  providerUrl: string;
  /** A URL on which nothing listens. */
  closedUrl: string;
};

/** A Solana payee and mint (base58, 44 characters). */
export const SOLANA_PAY_TO = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
export const SOLANA_MINT = 'Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB';

/**
 * The services of the payment suites (all `acme`, native, operation `get-price` with a required string
 * `symbol`; amounts and currencies known):
 *
 * | id | rail (default / supported) | required | amount | network | payTo / token |
 * | :-- | :-- | :-- | :-- | :-- | :-- |
 * | pay.wallet | wallet / wallet, escrow | yes | 2.5 USDT | eip155:<chainId> | payTo, token |
 * | pay.cheap | wallet / wallet | yes | 1 USDT | eip155:<chainId> | payTo, token |
 * | pay.plain | wallet / wallet | yes | 1.5 USDT | (none: PEAQOS_CHAIN_ID) | payTo only |
 * | pay.base | wallet / wallet | yes | 1 USDT | base (8453) | none |
 * | pay.free | not-required / not-required | no | 0.1 USDT | — | — |
 * | pay.escrow | escrow / escrow, onchain-escrow | yes | 2.5 USDT | eip155:<chainId> | payTo, token |
 * | pay.solana | wallet / wallet | yes | 1 USDT | solana | Solana payTo, mint |
 * | x402.json | x402 | yes | 0.01 USDC | base | provider `POST /json` |
 * | x402.header | x402 | yes | 0.01 USDC | base | provider `GET /header` |
 * | x402.fail | x402 | yes | 0.01 USDC | base | provider `POST /fail` |
 * | x402.slow | x402 | yes | 0.01 USDC | base | provider `POST /slow` |
 * | x402.closed | x402 | yes | 0.01 USDC | base | a closed port |
 * | x402.none | x402 | yes | 0.01 USDC | base | no endpoint |
 */
export function paymentCatalogFile(o: PaymentCatalogOptions): Json {
  const x402 = (id: string, endpoints: Json[]) => fileService(id, { pricing: fixedPrice(0.01, 'USDC'), payment: X402_PAYMENT, endpoints });
  const endpoint = (url: string, method: string) => ({ url, method, protocols: ['x402'], networks: ['base'] });
  return {
    version: 1,
    skills: [{ ...fileSkill('oracle.price-feed', 'acme', ['get-price']), label: 'Price feeds', description: 'Prices of asset pairs.' }],
    adapters: [fileAdapter('acme', 'native', { label: 'Acme' })],
    services: [
      fileService('pay.wallet', { pricing: fixedPrice(2.5, 'USDT'), payment: onChainPayment(['wallet', 'escrow'], o) }),
      fileService('pay.cheap', { pricing: fixedPrice(1, 'USDT'), payment: onChainPayment(['wallet'], o, '1') }),
      fileService('pay.plain', {
        pricing: fixedPrice(1.5, 'USDT'),
        payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], amount: '1.5', currency: 'USDT', payTo: o.payTo },
      }),
      fileService('pay.base', {
        pricing: fixedPrice(1, 'USDT'),
        payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], amount: '1', currency: 'USDT', network: 'base' },
      }),
      fileService('pay.free', { pricing: fixedPrice(0.1, 'USDT'), payment: FREE_PAYMENT }),
      fileService('pay.escrow', { pricing: fixedPrice(2.5, 'USDT'), payment: onChainPayment(['escrow', 'onchain-escrow'], o) }),
      fileService('pay.solana', {
        pricing: fixedPrice(1, 'USDT'),
        payment: {
          defaultRail: 'wallet',
          required: true,
          supportedRails: ['wallet'],
          amount: '1',
          currency: 'USDT',
          payTo: SOLANA_PAY_TO,
          network: 'solana',
          tokenAddress: SOLANA_MINT,
        },
      }),
      x402('x402.json', [endpoint(`${o.providerUrl}/json`, 'POST')]),
      x402('x402.header', [endpoint(`${o.providerUrl}/header`, 'GET')]),
      x402('x402.fail', [endpoint(`${o.providerUrl}/fail`, 'POST')]),
      x402('x402.slow', [endpoint(`${o.providerUrl}/slow`, 'POST')]),
      x402('x402.closed', [endpoint(`${o.closedUrl}/json`, 'POST')]),
      x402('x402.none', []),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// An x402 provider on 127.0.0.1
// ---------------------------------------------------------------------------------------------------

export type ProviderRequest = { method: string; path: string; query: URLSearchParams; headers: IncomingMessage['headers']; body: string };
export type ProviderReply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/**
 * An HTTP provider whose answer per path the test sets (`replies`); every request is recorded.
 * `'hang'` never answers (the connection is destroyed by `stop()`).
 */
export class X402Provider {
  readonly requests: ProviderRequest[] = [];
  readonly replies = new Map<string, (request: ProviderRequest) => ProviderReply>();
  url = '';
  private server: Server | undefined;

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** The recorded requests to `path`. */
  requestsTo(path: string): ProviderRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request: ProviderRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(request);
    const reply = this.replies.get(url.pathname)?.(request) ?? { status: 404, body: 'no such route' };
    if (reply === 'hang') return;
    res.writeHead(reply.status, reply.headers ?? {}).end(reply.body ?? '');
  }
}

/** A 402 whose body is the JSON payment requirements. */
export function jsonChallenge(requirements: unknown, headers: Record<string, string> = {}): ProviderReply {
  return { status: 402, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(requirements) };
}

/** x402-like payment requirements, distinguishable by `nonce`. */
export function requirements(nonce: string): Json {
  return {
    x402Version: 1,
    error: 'X-PAYMENT header is required',
    accepts: [
      {
        scheme: 'exact',
        network: 'base',
        maxAmountRequired: '10000',
        resource: 'https://api.acme.example/price',
        payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
        asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
        extra: { nonce },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// One app per describe
// ---------------------------------------------------------------------------------------------------

export type PaymentApp = { t: TestApp; orders: OrderApi; payments: PaymentApi; fx: UnverifiedFixtures };

export type PaymentAppOptions = {
  clock: ControllableClock;
  catalog: () => Json;
  env?: () => Record<string, string>;
} & Pick<TestAppOverrides, 'providers' | 'wrapEventStore'>;

/**
 * For the enclosing describe: the catalogue `catalog()` (called in beforeAll, after the suite's own
 * servers started) and an app with `env()` if given (and `providers`, `wrapEventStore` as startTestApp
 * takes them), both removed after the describe. MCR points at a closed port: nothing here may leave
 * 127.0.0.1 (and `disabled` mode never calls it). The app is on SQLite even under `npm run
 * test:eventstoredb`, which swaps only the suites' own `../support/test-app` for the real server.
 */
export function usePaymentApp(options: PaymentAppOptions, bind: (app: PaymentApp) => void): void {
  let t: TestApp | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'peaqos-payments-catalog-'));
    const catalogPath = join(dir, 'catalog.json');
    writeFileSync(catalogPath, JSON.stringify(options.catalog()));
    t = await startTestApp({
      clock: options.clock,
      providers: options.providers,
      wrapEventStore: options.wrapEventStore,
      env: { ...UNVERIFIED, PEAQOS_MCR_API_URL: await closedPortUrl(), PEAQOS_CATALOG_PATH: catalogPath, ...options.env?.() },
    });
    bind({ t, orders: new OrderApi(t), payments: new PaymentApi(t), fx: new UnverifiedFixtures(t) });
  });
  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

/** usePaymentApp, then one agent on it (a fresh machine and its pairing, made in beforeAll), bound with the rest. */
export function usePaymentAgent(options: PaymentAppOptions, bind: (app: PaymentApp & { agent: OrderAgent }) => void): void {
  let app: PaymentApp;
  usePaymentApp(options, (started) => (app = started));
  beforeAll(async () => bind({ ...app, agent: await app.fx.agent() }));
}

/** An order of `serviceId` by the agent (input `{ symbol: "ETH/USD" }`), failing loudly unless it answers 201. */
export async function placeOrder(
  orders: OrderApi,
  agent: OrderAgent,
  serviceId: string,
  extra: Record<string, unknown> = {},
): Promise<Json> {
  return orders.place(agent, { serviceId, input: { symbol: 'ETH/USD' }, ...extra });
}

/** A random, well-formed EVM transaction hash (`0x` + 64 lower-case hex). */
export function randomTxHash(): `0x${string}` {
  return `0x${randomBytes(32).toString('hex')}`;
}
