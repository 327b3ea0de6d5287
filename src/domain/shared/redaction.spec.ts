import { isSecretName, REDACTED, redactAllValues, redactSecrets } from './redaction';

// §9: the secret-named members, written as the spec lists them.
const SECRET_NAMES = [
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
];

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

describe('redaction (§9)', () => {
  describe('isSecretName', () => {
    it.each(SECRET_NAMES)('%s is secret', (name) => {
      expect(isSecretName(name)).toBe(true);
    });

    it.each([
      'Client_Secret',
      'x-api-key',
      'X-API-KEY',
      'PRIVATE-KEY',
      'private_key',
      'privateKey',
      'Authorization',
      'AUTH_TOKEN',
      'accessToken',
      'refresh-token',
      'api_key',
      'apiKey',
      'Seed-Phrase',
      'agent_token',
      'pairingToken',
      'X-Payment',
      'PAYMENT-SIGNATURE',
      'Pass_Word',
      '_secret_',
      's-e-c-r-e-t',
      'MNEMONIC',
    ])('%s is secret (case-insensitive, - and _ ignored)', (name) => {
      expect(isSecretName(name)).toBe(true);
    });

    it.each([
      'secrets',
      'secretName',
      'passwordHint',
      'hasAuthToken',
      'tokenLastFour',
      'token',
      'key',
      'api',
      'paymentHeadersFingerprint',
      'x.api.key',
      'api key',
      'signature',
      'publicKey',
      '',
    ])('%s is not secret', (name) => {
      expect(isSecretName(name)).toBe(false);
    });
  });

  describe('redactSecrets', () => {
    it('replaces every secret-named member at the top level', () => {
      const input = Object.fromEntries(SECRET_NAMES.map((name) => [name, `value-of-${name}`]));
      const expected = Object.fromEntries(SECRET_NAMES.map((name) => [name, REDACTED]));
      expect(redactSecrets(input)).toEqual(expected);
      expect(REDACTED).toBe('[REDACTED]');
    });

    it('replaces secret-named members at any depth, inside objects and arrays', () => {
      const input = {
        query: 'weather',
        auth: { Client_Secret: 'cs', nested: { deeper: { 'x-api-key': 'k', keep: 1 } } },
        steps: [{ 'PRIVATE-KEY': '0xabc', name: 'sign' }, [{ password: 'p' }], 'plain'],
      };
      expect(redactSecrets(input)).toEqual({
        query: 'weather',
        auth: { Client_Secret: REDACTED, nested: { deeper: { 'x-api-key': REDACTED, keep: 1 } } },
        steps: [{ 'PRIVATE-KEY': REDACTED, name: 'sign' }, [{ password: REDACTED }], 'plain'],
      });
    });

    it('replaces the whole value of a secret-named member, whatever its type', () => {
      const input = { secret: { a: 1 }, apiKey: ['k1', 'k2'], password: 12345, mnemonic: null, authorization: false };
      expect(redactSecrets(input)).toEqual({
        secret: REDACTED,
        apiKey: REDACTED,
        password: REDACTED,
        mnemonic: REDACTED,
        authorization: REDACTED,
      });
    });

    it('leaves non-secret members, strings that look like secrets and primitives untouched', () => {
      const input = { token: 't', note: 'password=hunter2', list: [1, 'secret', null, true], n: 0, empty: {} };
      expect(redactSecrets(input)).toEqual(input);
      expect(redactSecrets('password')).toBe('password');
      expect(redactSecrets(null)).toBeNull();
      expect(redactSecrets(42)).toBe(42);
      expect(redactSecrets(['a', { secret: 's' }])).toEqual(['a', { secret: REDACTED }]);
    });

    it('does not mutate its input', () => {
      const input = deepFreeze({ a: { password: 'p', list: [{ secret: 's' }] }, b: 1 });
      const copy = JSON.parse(JSON.stringify(input));
      const out = redactSecrets(input);
      expect(input).toEqual(copy);
      expect(out).not.toBe(input);
      expect(out.a).not.toBe(input.a);
    });
  });

  describe('redactAllValues (providerCredentials)', () => {
    it('keeps every member name and replaces every value, at any depth', () => {
      const credentials = { openweather: { apiKey: 'k', region: 'eu', retries: 3, nested: { a: null, b: true } }, other: 'x' };
      expect(redactAllValues(credentials)).toEqual({
        openweather: { apiKey: REDACTED, region: REDACTED, retries: REDACTED, nested: { a: REDACTED, b: REDACTED } },
        other: REDACTED,
      });
    });

    it('replaces each array element, keeping the array shape', () => {
      expect(redactAllValues({ scopes: ['a', 'b', { c: 1 }] })).toEqual({ scopes: [REDACTED, REDACTED, { c: REDACTED }] });
    });

    it('keeps an empty object empty and redacts a bare value', () => {
      expect(redactAllValues({})).toEqual({});
      expect(redactAllValues('k')).toBe(REDACTED);
    });

    it('does not mutate its input', () => {
      const input = deepFreeze({ p: { token: 'secret-value' } });
      redactAllValues(input);
      expect(input).toEqual({ p: { token: 'secret-value' } });
    });
  });
});
