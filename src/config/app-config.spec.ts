import { resolve } from 'node:path';
import { AppConfig, ConfigIssue, formatConfigErrors, loadConfig } from './app-config';

type Env = Record<string, string | undefined>;

const CWD = resolve('/srv/peaqos');
const SECRET = 's'.repeat(32);
const KEY_A = 'key-aaaaaaaaaaaaaaaa';
const KEY_B = 'key-bbbbbbbbbbbbbbbb';

function config(env: Env, cwd = CWD): AppConfig {
  const result = loadConfig(env, cwd);
  if (!result.ok) throw new Error(`expected a valid configuration:\n${formatConfigErrors(result.errors)}`);
  return result.config;
}

function errors(env: Env): ConfigIssue[] {
  const result = loadConfig(env, CWD);
  if (result.ok) throw new Error('expected configuration errors');
  return result.errors;
}

function variablesIn(env: Env): string[] {
  return errors(env).map((e) => e.variable);
}

// §2.2, every variable with its default (development rules, nothing set).
const DEFAULTS: Omit<AppConfig, 'sessionSecret'> = {
  production: false,
  host: '0.0.0.0',
  port: 3000,
  requireApiAuth: false,
  apiKeys: [],
  requireAgentPairingAuth: true,
  machineIdentityVerification: 'required',
  agentPairingVerification: 'required',
  sessionSecretEphemeral: true,
  agentPairingChallengeTtlMs: 600000,
  agentPairingSessionTtlMs: 3600000,
  machineIdentityChallengeTtlMs: 600000,
  requireMarketQuotes: false,
  marketQuoteTtlMs: 300000,
  enforceServicePaymentRails: false,
  requirePaymentBeforeExecute: false,
  requirePaymentRpcVerification: false,
  paymentRpcUrl: null,
  paymentMinConfirmations: 1,
  chainId: 3338,
  usdtContract: null,
  usdtDecimals: 6,
  mcrApiUrl: 'https://mcr.peaq.xyz',
  mcrCacheTtlMs: 60000,
  mcrTimeoutMs: 5000,
  eventStore: 'sqlite',
  sqlitePath: resolve(CWD, 'data/peaqos.db'),
  eventStoreConnectionString: null,
  readModelPath: resolve(CWD, 'data/read-model.db'),
  catalogPath: null,
  executeTimeoutMs: 30000,
};

const ALL_VARIABLES = [
  'NODE_ENV',
  'PEAQOS_HOST',
  'PEAQOS_PORT',
  'PEAQOS_REQUIRE_API_AUTH',
  'PEAQOS_API_KEY',
  'PEAQOS_API_KEYS',
  'PEAQOS_REQUIRE_AGENT_PAIRING_AUTH',
  'PEAQOS_MACHINE_IDENTITY_VERIFICATION',
  'PEAQOS_AGENT_PAIRING_VERIFICATION',
  'PEAQOS_AGENT_PAIRING_SESSION_SECRET',
  'PEAQOS_AGENT_PAIRING_CHALLENGE_TTL_MS',
  'PEAQOS_AGENT_PAIRING_SESSION_TTL_MS',
  'PEAQOS_MACHINE_IDENTITY_CHALLENGE_TTL_MS',
  'PEAQOS_REQUIRE_MARKET_QUOTES',
  'PEAQOS_MARKET_QUOTE_TTL_MS',
  'PEAQOS_ENFORCE_SERVICE_PAYMENT_RAILS',
  'PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE',
  'PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION',
  'PEAQOS_PAYMENT_RPC_URL',
  'PEAQ_EVM_RPC_URL',
  'PEAQOS_EVM_RPC_URL',
  'PEAQOS_PAYMENT_MIN_CONFIRMATIONS',
  'PEAQOS_CHAIN_ID',
  'PEAQOS_USDT_CONTRACT',
  'PEAQOS_USDT_DECIMALS',
  'PEAQOS_MCR_API_URL',
  'PEAQOS_MCR_CACHE_TTL_MS',
  'PEAQOS_MCR_TIMEOUT_MS',
  'PEAQOS_EVENT_STORE',
  'PEAQOS_SQLITE_PATH',
  'PEAQOS_EVENTSTORE_CONNECTION_STRING',
  'PEAQOS_READ_MODEL_PATH',
  'PEAQOS_CATALOG_PATH',
  'PEAQOS_EXECUTE_TIMEOUT_MS',
];

describe('loadConfig (§2)', () => {
  describe('defaults (§2.2)', () => {
    it('gives every variable its documented default when nothing is set', () => {
      expect(config({})).toEqual({ ...DEFAULTS, sessionSecret: expect.any(String) });
    });

    it('treats every variable set to the empty string as unset (§2.1)', () => {
      const empty = Object.fromEntries(ALL_VARIABLES.map((name) => [name, '']));
      expect(config(empty)).toEqual({ ...DEFAULTS, sessionSecret: expect.any(String) });
    });

    it('has the same defaults in production, apart from the secret', () => {
      expect(config({ NODE_ENV: 'production', PEAQOS_AGENT_PAIRING_SESSION_SECRET: SECRET })).toEqual({
        ...DEFAULTS,
        production: true,
        sessionSecret: SECRET,
        sessionSecretEphemeral: false,
      });
    });

    it('resolves relative paths against process.cwd() when no cwd is given', () => {
      const result = loadConfig({});
      expect(result.ok && result.config.sqlitePath).toBe(resolve(process.cwd(), 'data/peaqos.db'));
    });
  });

  describe('booleans: true or false, case-insensitive, nothing else (§2.1)', () => {
    const base: Env = { PEAQOS_API_KEY: KEY_A, PEAQOS_PAYMENT_RPC_URL: 'https://rpc.example.org' };
    const booleans: Array<[string, keyof AppConfig]> = [
      ['PEAQOS_REQUIRE_API_AUTH', 'requireApiAuth'],
      ['PEAQOS_REQUIRE_AGENT_PAIRING_AUTH', 'requireAgentPairingAuth'],
      ['PEAQOS_REQUIRE_MARKET_QUOTES', 'requireMarketQuotes'],
      ['PEAQOS_ENFORCE_SERVICE_PAYMENT_RAILS', 'enforceServicePaymentRails'],
      ['PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE', 'requirePaymentBeforeExecute'],
      ['PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION', 'requirePaymentRpcVerification'],
    ];

    describe.each(booleans)('%s', (name, field) => {
      it.each(['true', 'TRUE', 'True', 'tRuE'])('accepts %s as true', (raw) => {
        expect(config({ ...base, [name]: raw })[field]).toBe(true);
      });

      it.each(['false', 'FALSE', 'False'])('accepts %s as false', (raw) => {
        expect(config({ ...base, [name]: raw })[field]).toBe(false);
      });

      it.each(['1', '0', 'yes', 'no', 'on', 't', ' true', 'false ', 'truee'])('rejects %p naming the variable', (raw) => {
        expect(variablesIn({ ...base, [name]: raw })).toEqual([name]);
      });
    });
  });

  describe('integers: base-10 digits within the range (§2.1, §2.2)', () => {
    const integers: Array<[string, keyof AppConfig, number, number]> = [
      ['PEAQOS_PORT', 'port', 1, 65535],
      ['PEAQOS_AGENT_PAIRING_CHALLENGE_TTL_MS', 'agentPairingChallengeTtlMs', 10000, 86400000],
      ['PEAQOS_AGENT_PAIRING_SESSION_TTL_MS', 'agentPairingSessionTtlMs', 60000, 2592000000],
      ['PEAQOS_MACHINE_IDENTITY_CHALLENGE_TTL_MS', 'machineIdentityChallengeTtlMs', 10000, 86400000],
      ['PEAQOS_MARKET_QUOTE_TTL_MS', 'marketQuoteTtlMs', 10000, 86400000],
      ['PEAQOS_PAYMENT_MIN_CONFIRMATIONS', 'paymentMinConfirmations', 1, 1000],
      ['PEAQOS_CHAIN_ID', 'chainId', 1, 9007199254740991],
      ['PEAQOS_USDT_DECIMALS', 'usdtDecimals', 0, 36],
      ['PEAQOS_MCR_CACHE_TTL_MS', 'mcrCacheTtlMs', 0, 86400000],
      ['PEAQOS_MCR_TIMEOUT_MS', 'mcrTimeoutMs', 100, 60000],
      ['PEAQOS_EXECUTE_TIMEOUT_MS', 'executeTimeoutMs', 1000, 300000],
    ];

    describe.each(integers)('%s (%s, %i..%i)', (name, field, min, max) => {
      it('accepts both boundaries', () => {
        expect(config({ [name]: String(min) })[field]).toBe(min);
        expect(config({ [name]: String(max) })[field]).toBe(max);
      });

      it('rejects one below the minimum and one above the maximum, naming the variable', () => {
        if (min > 0) expect(variablesIn({ [name]: String(min - 1) })).toEqual([name]);
        expect(variablesIn({ [name]: (BigInt(max) + 1n).toString() })).toEqual([name]);
      });

      it.each(['-1', '+5', '1.0', '1e3', '0x10', ' 100', '100 ', '12a', 'abc', '1_000', '\uff11\uff12'])(
        'rejects the non-digit value %p',
        (raw) => {
          expect(variablesIn({ [name]: raw })).toEqual([name]);
        },
      );
    });

    it('rejects values far beyond the safe integer range', () => {
      expect(variablesIn({ PEAQOS_CHAIN_ID: '99999999999999999999999' })).toEqual(['PEAQOS_CHAIN_ID']);
    });
  });

  describe('enumerations', () => {
    it.each(['required', 'optional', 'disabled'])('accepts verification mode %s', (mode) => {
      const c = config({ PEAQOS_MACHINE_IDENTITY_VERIFICATION: mode, PEAQOS_AGENT_PAIRING_VERIFICATION: mode });
      expect([c.machineIdentityVerification, c.agentPairingVerification]).toEqual([mode, mode]);
    });

    it('rejects an unknown verification mode or event store', () => {
      expect(variablesIn({ PEAQOS_MACHINE_IDENTITY_VERIFICATION: 'strict' })).toEqual(['PEAQOS_MACHINE_IDENTITY_VERIFICATION']);
      expect(variablesIn({ PEAQOS_AGENT_PAIRING_VERIFICATION: 'off' })).toEqual(['PEAQOS_AGENT_PAIRING_VERIFICATION']);
      expect(variablesIn({ PEAQOS_EVENT_STORE: 'postgres' })).toEqual(['PEAQOS_EVENT_STORE']);
    });
  });

  describe('host', () => {
    it.each(['127.0.0.1', '::1', 'localhost', 'api.example.org', '[::]'])('accepts %s', (host) => {
      expect(config({ PEAQOS_HOST: host }).host).toBe(host);
    });

    it.each(['bad host', 'http://example.org', 'a/b'])('rejects %p', (host) => {
      expect(variablesIn({ PEAQOS_HOST: host })).toEqual(['PEAQOS_HOST']);
    });
  });

  describe('URLs: absolute http(s), trailing slash removed (§2.1)', () => {
    const urls: Array<[string, (c: AppConfig) => string | null]> = [
      ['PEAQOS_PAYMENT_RPC_URL', (c) => c.paymentRpcUrl],
      ['PEAQ_EVM_RPC_URL', (c) => c.paymentRpcUrl],
      ['PEAQOS_EVM_RPC_URL', (c) => c.paymentRpcUrl],
      ['PEAQOS_MCR_API_URL', (c) => c.mcrApiUrl],
    ];

    describe.each(urls)('%s', (name, read) => {
      it.each([
        ['https://rpc.example.org/', 'https://rpc.example.org'],
        ['http://localhost:8545/', 'http://localhost:8545'],
        ['https://node.example.org/v1/key/', 'https://node.example.org/v1/key'],
        ['https://node.example.org/v1', 'https://node.example.org/v1'],
      ])('turns %s into %s', (raw, expected) => {
        expect(read(config({ [name]: raw }))).toBe(expected);
      });

      it.each(['ftp://rpc.example.org', 'ws://rpc.example.org', 'file:///etc/hosts', 'rpc.example.org', '/rpc', 'not a url'])(
        'rejects %p naming the variable',
        (raw) => {
          expect(variablesIn({ [name]: raw })).toEqual([name]);
        },
      );
    });

    it('uses the first of PEAQOS_PAYMENT_RPC_URL, PEAQ_EVM_RPC_URL, PEAQOS_EVM_RPC_URL that is set', () => {
      const all = {
        PEAQOS_PAYMENT_RPC_URL: 'https://a.example',
        PEAQ_EVM_RPC_URL: 'https://b.example',
        PEAQOS_EVM_RPC_URL: 'https://c.example',
      };
      expect(config(all).paymentRpcUrl).toBe('https://a.example');
      expect(config({ ...all, PEAQOS_PAYMENT_RPC_URL: '' }).paymentRpcUrl).toBe('https://b.example');
      expect(config({ ...all, PEAQOS_PAYMENT_RPC_URL: undefined, PEAQ_EVM_RPC_URL: '' }).paymentRpcUrl).toBe('https://c.example');
      expect(config({ PEAQOS_EVM_RPC_URL: 'https://c.example/' }).paymentRpcUrl).toBe('https://c.example');
      expect(config({}).paymentRpcUrl).toBeNull();
    });
  });

  describe('API keys', () => {
    it('accepts one key, trimmed', () => {
      expect(config({ PEAQOS_API_KEY: `  ${KEY_A}\t` }).apiKeys).toEqual([KEY_A]);
    });

    it('accepts a comma-separated list, trimmed, skipping empty entries', () => {
      expect(config({ PEAQOS_API_KEYS: ` ${KEY_A} ,, ${KEY_B},  , ` }).apiKeys).toEqual([KEY_A, KEY_B]);
    });

    it('uses the union of both variables without duplicates', () => {
      const keys = config({ PEAQOS_API_KEY: KEY_A, PEAQOS_API_KEYS: `${KEY_B},${KEY_A}, ${KEY_B}` }).apiKeys;
      expect([...keys].sort()).toEqual([KEY_A, KEY_B]);
    });

    it('accepts 16 characters after trimming and rejects 15', () => {
      expect(config({ PEAQOS_API_KEY: ' ' + 'k'.repeat(16) + ' ' }).apiKeys).toEqual(['k'.repeat(16)]);
      expect(variablesIn({ PEAQOS_API_KEY: '  ' + 'k'.repeat(15) + '  ' })).toEqual(['PEAQOS_API_KEY']);
      expect(variablesIn({ PEAQOS_API_KEYS: `${KEY_A}, ${'k'.repeat(15)} ` })).toEqual(['PEAQOS_API_KEYS']);
    });

    it('rejects a comma in PEAQOS_API_KEY', () => {
      expect(variablesIn({ PEAQOS_API_KEY: `${KEY_A},${KEY_B}` })).toEqual(['PEAQOS_API_KEY']);
    });
  });

  describe('cross-variable checks (§2.4)', () => {
    it('PEAQOS_REQUIRE_API_AUTH=true without any key names PEAQOS_API_KEYS', () => {
      expect(variablesIn({ PEAQOS_REQUIRE_API_AUTH: 'true' })).toEqual(['PEAQOS_API_KEYS']);
      expect(variablesIn({ PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEYS: ' , ,' })).toEqual(['PEAQOS_API_KEYS']);
      expect(config({ PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEY: KEY_A }).requireApiAuth).toBe(true);
      expect(config({ PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEYS: KEY_B }).apiKeys).toEqual([KEY_B]);
    });

    it('PEAQOS_EVENT_STORE=eventstoredb without a connection string names PEAQOS_EVENTSTORE_CONNECTION_STRING', () => {
      expect(variablesIn({ PEAQOS_EVENT_STORE: 'eventstoredb' })).toEqual(['PEAQOS_EVENTSTORE_CONNECTION_STRING']);
      expect(variablesIn({ PEAQOS_EVENT_STORE: 'eventstoredb', PEAQOS_EVENTSTORE_CONNECTION_STRING: '' })).toEqual([
        'PEAQOS_EVENTSTORE_CONNECTION_STRING',
      ]);
    });

    it.each([
      'esdb://localhost:2113?tls=false',
      'esdb+discover://cluster.example:2113',
      'kurrentdb://a:2113',
      'kurrentdb+discover://b:2113',
    ])('accepts the connection string %s', (connection) => {
      const c = config({ PEAQOS_EVENT_STORE: 'eventstoredb', PEAQOS_EVENTSTORE_CONNECTION_STRING: connection });
      expect([c.eventStore, c.eventStoreConnectionString]).toEqual(['eventstoredb', connection]);
    });

    it.each(['http://localhost:2113', 'esdb:/x', 'tcp://localhost:1113'])('rejects the connection string %p', (connection) => {
      expect(variablesIn({ PEAQOS_EVENT_STORE: 'eventstoredb', PEAQOS_EVENTSTORE_CONNECTION_STRING: connection })).toEqual([
        'PEAQOS_EVENTSTORE_CONNECTION_STRING',
      ]);
    });

    it('PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION=true without any RPC URL names PEAQOS_PAYMENT_RPC_URL', () => {
      expect(variablesIn({ PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION: 'true' })).toEqual(['PEAQOS_PAYMENT_RPC_URL']);
      for (const name of ['PEAQOS_PAYMENT_RPC_URL', 'PEAQ_EVM_RPC_URL', 'PEAQOS_EVM_RPC_URL']) {
        expect(config({ PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION: 'true', [name]: 'https://rpc.example.org' }).paymentRpcUrl).toBe(
          'https://rpc.example.org',
        );
      }
    });
  });

  describe('the session secret (§2.3)', () => {
    it('is required in production, naming PEAQOS_AGENT_PAIRING_SESSION_SECRET', () => {
      for (const secret of [undefined, '']) {
        const found = errors({ NODE_ENV: 'production', PEAQOS_AGENT_PAIRING_SESSION_SECRET: secret });
        expect(found.map((e) => e.variable)).toEqual(['PEAQOS_AGENT_PAIRING_SESSION_SECRET']);
        expect(formatConfigErrors(found)).toMatch(/^Invalid configuration: PEAQOS_AGENT_PAIRING_SESSION_SECRET: .+/);
      }
    });

    it.each([undefined, 'development', 'test', 'Production', 'prod'])(
      'is generated (32 random bytes) with a warning naming the variable when unset and NODE_ENV=%p',
      (nodeEnv) => {
        const result = loadConfig({ NODE_ENV: nodeEnv }, CWD);
        if (!result.ok) throw new Error(formatConfigErrors(result.errors));
        expect(result.config.production).toBe(false);
        expect(result.config.sessionSecretEphemeral).toBe(true);
        expect(Buffer.from(result.config.sessionSecret, 'base64url')).toHaveLength(32);
        expect(result.warnings.map((w) => w.variable)).toEqual(['PEAQOS_AGENT_PAIRING_SESSION_SECRET']);
      },
    );

    it('is a different ephemeral secret at each start', () => {
      expect(config({}).sessionSecret).not.toBe(config({}).sessionSecret);
    });

    it('is used as configured, without warning', () => {
      const result = loadConfig({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: SECRET }, CWD);
      expect(result).toMatchObject({ ok: true, warnings: [], config: { sessionSecret: SECRET, sessionSecretEphemeral: false } });
    });

    it.each([undefined, 'production'])('shorter than 32 bytes is an error (NODE_ENV=%p)', (nodeEnv) => {
      expect(variablesIn({ NODE_ENV: nodeEnv, PEAQOS_AGENT_PAIRING_SESSION_SECRET: 's'.repeat(31) })).toEqual([
        'PEAQOS_AGENT_PAIRING_SESSION_SECRET',
      ]);
      expect(config({ NODE_ENV: nodeEnv, PEAQOS_AGENT_PAIRING_SESSION_SECRET: 's'.repeat(32) }).sessionSecret).toBe('s'.repeat(32));
    });

    it('counts UTF-8 bytes, not characters', () => {
      expect(config({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: '\u00e9'.repeat(16) }).sessionSecret).toBe('\u00e9'.repeat(16));
      expect(config({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: '\u20ac'.repeat(11) }).sessionSecret).toBe('\u20ac'.repeat(11));
      expect(variablesIn({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: '\u00e9'.repeat(15) + 'a' })).toEqual([
        'PEAQOS_AGENT_PAIRING_SESSION_SECRET',
      ]);
    });
  });

  describe('file paths (§2.1)', () => {
    it('resolves relative paths against the working directory and keeps absolute ones', () => {
      const c = config({
        PEAQOS_SQLITE_PATH: 'db/events.db',
        PEAQOS_READ_MODEL_PATH: '/var/lib/peaqos/rm.db',
        PEAQOS_CATALOG_PATH: './catalog.json',
      });
      expect(c.sqlitePath).toBe(resolve(CWD, 'db/events.db'));
      expect(c.readModelPath).toBe(resolve('/var/lib/peaqos/rm.db'));
      expect(c.catalogPath).toBe(resolve(CWD, 'catalog.json'));
      expect(config({ PEAQOS_CATALOG_PATH: '/etc/peaqos/catalog.json' }).catalogPath).toBe(resolve('/etc/peaqos/catalog.json'));
    });

    it('keeps :memory: for both databases', () => {
      const c = config({ PEAQOS_SQLITE_PATH: ':memory:', PEAQOS_READ_MODEL_PATH: ':memory:' });
      expect([c.sqlitePath, c.readModelPath]).toEqual([':memory:', ':memory:']);
    });
  });

  describe('USDT contract', () => {
    it('accepts 0x and 40 hex digits in any case', () => {
      const address = '0xAbCdEf0123456789abcdef0123456789ABCDEF01';
      expect(config({ PEAQOS_USDT_CONTRACT: address }).usdtContract).toBe(address);
    });

    it.each(['0x' + 'a'.repeat(39), '0x' + 'a'.repeat(41), 'a'.repeat(40), '0x' + 'g'.repeat(40)])('rejects %p', (raw) => {
      expect(variablesIn({ PEAQOS_USDT_CONTRACT: raw })).toEqual(['PEAQOS_USDT_CONTRACT']);
    });
  });

  describe('reporting (§2.1)', () => {
    it('reports every invalid variable, one issue each', () => {
      expect(variablesIn({ PEAQOS_PORT: '0', PEAQOS_REQUIRE_MARKET_QUOTES: 'yes', PEAQOS_MCR_API_URL: 'ftp://x' }).sort()).toEqual([
        'PEAQOS_MCR_API_URL',
        'PEAQOS_PORT',
        'PEAQOS_REQUIRE_MARKET_QUOTES',
      ]);
    });

    it('formats one line per issue as "Invalid configuration: <VAR>: <reason>"', () => {
      expect(
        formatConfigErrors([
          { variable: 'PEAQOS_PORT', reason: 'must be between 1 and 65535, got 0' },
          { variable: 'PEAQOS_HOST', reason: 'must be an IP address or host name' },
        ]),
      ).toBe(
        'Invalid configuration: PEAQOS_PORT: must be between 1 and 65535, got 0\nInvalid configuration: PEAQOS_HOST: must be an IP address or host name',
      );
    });

    it('formats real issues with the variable and a non-empty reason', () => {
      const lines = formatConfigErrors(errors({ PEAQOS_PORT: 'x', PEAQOS_USDT_DECIMALS: '37' })).split('\n');
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(line).toMatch(/^Invalid configuration: (PEAQOS_PORT|PEAQOS_USDT_DECIMALS): \S.*$/);
    });

    it('never puts an API key or the session secret into a reason', () => {
      const secret = 'short-secret';
      const key = 'short-key';
      const text = formatConfigErrors(
        errors({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: secret, PEAQOS_API_KEY: key, PEAQOS_API_KEYS: `${KEY_A},${key}` }),
      );
      expect(text).not.toContain(secret);
      expect(text).not.toContain(key);
      expect(text).not.toContain(KEY_A);
    });
  });
});
