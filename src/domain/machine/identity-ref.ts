import { validationError } from '../shared/domain-error';
import { parseEip55Address } from './eip55-address';

export type IdentityRefForm = 'did' | 'machine-id';

export type NormalisedIdentityRef =
  { ok: true; value: string; form: IdentityRefForm; /** EIP-55, for the `did` form only */ address?: string } | { ok: false };

const DID_PREFIX = 'did:peaq:';
const MACHINE_ID_PREFIX = 'peaqos:machine:';
const MACHINE_ID_DIGITS = /^[1-9][0-9]{0,77}$/;
const UINT256_LIMIT = 1n << 256n;

/**
 * §4.2: `did:peaq:0x<40 hex>` (normalised to the EIP-55 address) or `peaqos:machine:<uint256 decimal>`
 * (unchanged). Everything else is unsupported, including Economics 2.0 DIDs `did:peaq:<decimal>`.
 * Prefixes are case-sensitive; nothing is trimmed.
 */
export function normaliseIdentityRef(raw: unknown): NormalisedIdentityRef {
  if (typeof raw !== 'string') return { ok: false };
  if (raw.startsWith(DID_PREFIX)) {
    const address = parseEip55Address(raw.slice(DID_PREFIX.length));
    return address ? { ok: true, value: DID_PREFIX + address, form: 'did', address } : { ok: false };
  }
  if (raw.startsWith(MACHINE_ID_PREFIX)) {
    const digits = raw.slice(MACHINE_ID_PREFIX.length);
    if (!MACHINE_ID_DIGITS.test(digits) || BigInt(digits) >= UINT256_LIMIT) return { ok: false };
    return { ok: true, value: raw, form: 'machine-id' };
  }
  return { ok: false };
}

/** The normalised form of a request's `identityRef`, or 400 `unsupported_identity_ref` (§4.1, §4.2). */
export function requireIdentityRef(raw: unknown): string {
  const normalised = normaliseIdentityRef(raw);
  if (normalised.ok) return normalised.value;
  throw validationError(
    [{ location: 'body', path: '/identityRef', message: 'identityRef must be did:peaq:0x<40 hex> or peaqos:machine:<id>' }],
    'unsupported_identity_ref',
  );
}
