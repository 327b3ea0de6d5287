import { parseEip55Address } from '../machine/eip55-address';
import { PaymentNetwork } from './market-order-types';

/** §7.5.4 step 5, §6.2: `solana` is Solana; every other network name, or none, is EVM. */
export function paymentNetworkOf(network: string | undefined): PaymentNetwork {
  return network === 'solana' ? 'solana' : 'evm';
}

/** §7.5.4 step 6: the chain ids of the settlement network names (`eip155:<n>` → n). */
const CHAIN_IDS: Readonly<Record<string, number>> = {
  peaq: 3338,
  'peaq-agung': 9990,
  ethereum: 1,
  base: 8453,
  'base-sepolia': 84532,
  polygon: 137,
  arbitrum: 42161,
  optimism: 10,
};

/** The chain id a settlement network name determines, or null (unknown names, `solana`, none). */
export function chainIdOfNetwork(network: string | undefined): number | null {
  if (network === undefined) return null;
  if (Object.prototype.hasOwnProperty.call(CHAIN_IDS, network)) return CHAIN_IDS[network];
  const caip2 = /^eip155:([1-9][0-9]{0,15})$/.exec(network);
  if (!caip2) return null;
  const chainId = Number(caip2[1]);
  return Number.isSafeInteger(chainId) ? chainId : null;
}

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** A Solana address (or mint): base58 of 32–44 characters (§7.5.4 step 6, §7.5.5 step 7). */
export function isSolanaAddress(value: string): boolean {
  return value.length >= 32 && value.length <= 44 && BASE58.test(value);
}

/** A Solana transaction signature: base58 of 64–88 characters (§7.5.5 step 7). */
export function isSolanaTxHash(value: string): boolean {
  return value.length >= 64 && value.length <= 88 && BASE58.test(value);
}

const EVM_TX_HASH = /^0x[0-9a-fA-F]{64}$/;

/** An EVM transaction hash (`0x` + 64 hex) in its stored, lower-case form; null when malformed. */
export function parseEvmTxHash(value: string): string | null {
  return EVM_TX_HASH.test(value) ? value.toLowerCase() : null;
}

/** An EVM address in its stored EIP-55 form (mixed case must be a valid checksum); null when malformed. */
export function parseEvmAddress(value: string): string | null {
  return parseEip55Address(value);
}

/** An address of the network in its stored form (EVM: EIP-55; Solana: as given); null when malformed. */
export function parseAddress(network: PaymentNetwork, value: string): string | null {
  return network === 'evm' ? parseEvmAddress(value) : isSolanaAddress(value) ? value : null;
}

/** Address equality as §7.5.5 step 7 compares them: EVM case-insensitive, Solana exact. */
export function sameAddress(network: PaymentNetwork, a: string, b: string): boolean {
  return network === 'evm' ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/** The number of fractional digits of a decimal string. */
export function fractionDigits(decimal: string): number {
  const point = decimal.indexOf('.');
  return point === -1 ? 0 : decimal.length - point - 1;
}
