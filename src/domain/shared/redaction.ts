/** §9: object keys that are secrets wherever they appear in a free-form object. */
const SECRET_NAMES = new Set([
  'authorization',
  'authtoken',
  'accesstoken',
  'refreshtoken',
  'apikey',
  'xapikey',
  'secret',
  'clientsecret',
  'password',
  'privatekey',
  'mnemonic',
  'seedphrase',
  'agenttoken',
  'pairingtoken',
  'xpayment',
  'paymentsignature',
]);

export const REDACTED = '[REDACTED]';

export function isSecretName(key: string): boolean {
  return SECRET_NAMES.has(key.toLowerCase().replace(/[-_]/g, ''));
}

/** Returns a copy of `value` with every secret-named member replaced by "[REDACTED]", at any depth. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    out[key] = isSecretName(key) ? REDACTED : redactSecrets(member);
  }
  return out as T;
}

/** Replaces every value of an object (at any depth) with "[REDACTED]", keeping the member names. */
export function redactAllValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactAllValues);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactAllValues(v)]));
  }
  return REDACTED;
}
