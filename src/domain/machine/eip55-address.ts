import { keccak_256 } from '@noble/hashes/sha3';
import { LruMap } from '../shared/lru-map';

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * Checksummed forms by lower-case hex, least recently used out: the same few addresses (payers,
 * recipients, tokens) come back on every payment request, and each checksum is a Keccak-256.
 */
const checksummed = new LruMap<string, string>(10_000);

/** EIP-55 checksum form of a `0x` + 40 hex address (any case). */
export function toEip55Address(address: string): string {
  if (!HEX_ADDRESS.test(address)) throw new TypeError(`Not a 20-byte hex address: ${address}`);
  const lower = address.slice(2).toLowerCase();
  let out = checksummed.get(lower);
  if (out === undefined) {
    out = checksum(lower);
    checksummed.set(lower, out);
  }
  return out;
}

function checksum(lower: string): string {
  const hash = keccak_256(new TextEncoder().encode(lower));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) {
    // Nibble i of the hash: high nibble of byte i/2 for even i, low nibble for odd i.
    const nibble = i % 2 === 0 ? hash[i >> 1] >> 4 : hash[i >> 1] & 0x0f;
    out += nibble >= 8 ? lower[i].toUpperCase() : lower[i];
  }
  return out;
}

/**
 * Parses a `0x` + 40 hex address and returns its EIP-55 form. All-lower-case and all-upper-case hex
 * carry no checksum and are accepted; mixed case must be a valid EIP-55 checksum (§4.2). The `0x`
 * prefix must be lower-case.
 */
export function parseEip55Address(raw: string): string | null {
  if (!HEX_ADDRESS.test(raw) || raw[1] !== 'x') return null;
  const hex = raw.slice(2);
  const eip55 = toEip55Address(raw);
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase()) return eip55;
  return eip55 === raw ? eip55 : null;
}
