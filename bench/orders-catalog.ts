import { fileAdapter, fileService, fileSkill, fixedPrice } from '../test/support/catalog-fixture';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- catalogue files are JSON
type Json = any;

/** The service every benchmark order buys. */
export const BENCH_SERVICE_ID = 'bench.wallet';
/** Its fixed price (USDT), which is also the amount of every payment proof. */
export const BENCH_PRICE = '0.5';
/** The payee of its wallet rail (the proofs' `toAddress`). */
export const BENCH_PAY_TO = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
/** The payer the proofs name (`fromAddress`). */
export const BENCH_PAYER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
/** The ERC-20 of the rail (never called: proofs are `recorded`). */
export const BENCH_TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
export const BENCH_CHAIN_ID = 31337;

/**
 * The orders benchmark's catalogue (§2.5): one native `oracle.price-feed` service of `acme` with one
 * operation (`get-price`, a required string `symbol`), a fixed price of 0.5 USDT, a required `wallet`
 * rail on `eip155:31337` with a known payee and token, and one provider endpoint. The endpoint's URL is
 * only the route execution resolves: the benchmark mounts the in-process scripted adapter over
 * PROVIDER_ADAPTERS, so nothing is ever sent to it.
 */
export function ordersCatalogFile(): Json {
  return {
    version: 1,
    skills: [{ ...fileSkill('oracle.price-feed', 'acme', ['get-price']), label: 'Price feeds', description: 'Prices.' }],
    adapters: [fileAdapter('acme', 'native', { label: 'Acme' })],
    services: [
      fileService(BENCH_SERVICE_ID, {
        pricing: fixedPrice(Number(BENCH_PRICE), 'USDT'),
        payment: {
          defaultRail: 'wallet',
          required: true,
          supportedRails: ['wallet'],
          amount: BENCH_PRICE,
          currency: 'USDT',
          payTo: BENCH_PAY_TO,
          network: `eip155:${BENCH_CHAIN_ID}`,
          tokenAddress: BENCH_TOKEN,
        },
        endpoints: [{ url: 'http://127.0.0.1:9/unused', method: 'POST', protocols: ['https'], networks: [] }],
      }),
    ],
  };
}
