import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

export type VerificationMode = 'required' | 'optional' | 'disabled';

/** The typed, validated configuration of §2.2. */
export type AppConfig = {
  production: boolean;
  host: string;
  port: number;
  requireApiAuth: boolean;
  /** Union of PEAQOS_API_KEY and PEAQOS_API_KEYS, trimmed, without empties or duplicates. Never logged. */
  apiKeys: string[];
  requireAgentPairingAuth: boolean;
  machineIdentityVerification: VerificationMode;
  agentPairingVerification: VerificationMode;
  sessionSecret: string;
  /** True when no secret was configured and a random one was generated (development only). */
  sessionSecretEphemeral: boolean;
  agentPairingChallengeTtlMs: number;
  agentPairingSessionTtlMs: number;
  machineIdentityChallengeTtlMs: number;
  requireMarketQuotes: boolean;
  marketQuoteTtlMs: number;
  enforceServicePaymentRails: boolean;
  requirePaymentBeforeExecute: boolean;
  requirePaymentRpcVerification: boolean;
  /** First of PEAQOS_PAYMENT_RPC_URL, PEAQ_EVM_RPC_URL, PEAQOS_EVM_RPC_URL; null when none is set. */
  paymentRpcUrl: string | null;
  paymentMinConfirmations: number;
  chainId: number;
  usdtContract: string | null;
  usdtDecimals: number;
  mcrApiUrl: string;
  mcrCacheTtlMs: number;
  mcrTimeoutMs: number;
  eventStore: 'sqlite' | 'eventstoredb';
  sqlitePath: string;
  eventStoreConnectionString: string | null;
  readModelPath: string;
  /** null: the shipped catalogue. */
  catalogPath: string | null;
  executeTimeoutMs: number;
};

export type ConfigIssue = { variable: string; reason: string };

export type ConfigResult = { ok: true; config: AppConfig; warnings: ConfigIssue[] } | { ok: false; errors: ConfigIssue[] };

type Env = Record<string, string | undefined>;

/**
 * Parses the environment by the rules of §2.1 and checks §2.3–§2.4. Pure except for generating the
 * ephemeral development secret; the caller decides how to report issues.
 */
export function loadConfig(env: Env, cwd: string = process.cwd()): ConfigResult {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const fail = (variable: string, reason: string) => errors.push({ variable, reason });

  const bool = (name: string, fallback: boolean): boolean => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    fail(name, `must be "true" or "false", got ${JSON.stringify(raw)}`);
    return fallback;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^[0-9]+$/.test(raw)) {
      fail(name, `must be a base-10 integer, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      fail(name, `must be between ${min} and ${max}, got ${raw}`);
      return fallback;
    }
    return value;
  };
  const url = (name: string): string | undefined => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    try {
      if (/\s/.test(raw)) throw new Error('whitespace');
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
      return raw.endsWith('/') ? raw.slice(0, -1) : raw;
    } catch {
      fail(name, `must be an absolute http: or https: URL`);
      return undefined;
    }
  };
  const oneOf = <T extends string>(name: string, values: readonly T[], fallback: T): T => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    fail(name, `must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
    return fallback;
  };
  const filePath = (name: string, fallback: string): string => {
    const raw = read(name) ?? fallback;
    return raw === ':memory:' ? raw : resolve(cwd, raw);
  };

  const production = env.NODE_ENV === 'production';

  const host = read('PEAQOS_HOST') ?? '0.0.0.0';
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(host)) fail('PEAQOS_HOST', 'must be an IP address or host name');
  const port = int('PEAQOS_PORT', 3000, 1, 65535);

  const requireApiAuth = bool('PEAQOS_REQUIRE_API_AUTH', false);
  const apiKeys = new Set<string>();
  const single = read('PEAQOS_API_KEY');
  if (single !== undefined) {
    const key = single.trim();
    if (key.includes(',')) fail('PEAQOS_API_KEY', 'must not contain ","');
    else if (key.length < 16) fail('PEAQOS_API_KEY', 'must be at least 16 characters after trimming');
    else apiKeys.add(key);
  }
  const many = read('PEAQOS_API_KEYS');
  if (many !== undefined) {
    const entries = many
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k.length > 0);
    const short = entries.filter((k) => k.length < 16);
    if (short.length > 0) fail('PEAQOS_API_KEYS', `every entry must be at least 16 characters after trimming (${short.length} too short)`);
    else entries.forEach((k) => apiKeys.add(k));
  }
  if (requireApiAuth && apiKeys.size === 0 && !errors.some((e) => e.variable.startsWith('PEAQOS_API_KEY'))) {
    fail('PEAQOS_API_KEYS', 'PEAQOS_REQUIRE_API_AUTH=true needs at least one API key');
  }

  const requireAgentPairingAuth = bool('PEAQOS_REQUIRE_AGENT_PAIRING_AUTH', true);
  const modes = ['required', 'optional', 'disabled'] as const;
  const machineIdentityVerification = oneOf('PEAQOS_MACHINE_IDENTITY_VERIFICATION', modes, 'required');
  const agentPairingVerification = oneOf('PEAQOS_AGENT_PAIRING_VERIFICATION', modes, 'required');

  let sessionSecret = read('PEAQOS_AGENT_PAIRING_SESSION_SECRET');
  let sessionSecretEphemeral = false;
  if (sessionSecret === undefined) {
    if (production) fail('PEAQOS_AGENT_PAIRING_SESSION_SECRET', 'is required when NODE_ENV=production');
    else {
      sessionSecret = randomBytes(32).toString('base64url');
      sessionSecretEphemeral = true;
      warnings.push({
        variable: 'PEAQOS_AGENT_PAIRING_SESSION_SECRET',
        reason: 'is not set; using an ephemeral random secret: session tokens and challenges do not survive a restart',
      });
    }
  } else if (Buffer.byteLength(sessionSecret, 'utf8') < 32) {
    fail('PEAQOS_AGENT_PAIRING_SESSION_SECRET', 'must be at least 32 bytes');
  }

  const agentPairingChallengeTtlMs = int('PEAQOS_AGENT_PAIRING_CHALLENGE_TTL_MS', 600_000, 10_000, 86_400_000);
  const agentPairingSessionTtlMs = int('PEAQOS_AGENT_PAIRING_SESSION_TTL_MS', 3_600_000, 60_000, 2_592_000_000);
  const machineIdentityChallengeTtlMs = int('PEAQOS_MACHINE_IDENTITY_CHALLENGE_TTL_MS', 600_000, 10_000, 86_400_000);
  const requireMarketQuotes = bool('PEAQOS_REQUIRE_MARKET_QUOTES', false);
  const marketQuoteTtlMs = int('PEAQOS_MARKET_QUOTE_TTL_MS', 300_000, 10_000, 86_400_000);
  const enforceServicePaymentRails = bool('PEAQOS_ENFORCE_SERVICE_PAYMENT_RAILS', false);
  const requirePaymentBeforeExecute = bool('PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE', false);
  const requirePaymentRpcVerification = bool('PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION', false);
  const rpcCandidates = [url('PEAQOS_PAYMENT_RPC_URL'), url('PEAQ_EVM_RPC_URL'), url('PEAQOS_EVM_RPC_URL')];
  const paymentRpcUrl = rpcCandidates.find((u) => u !== undefined) ?? null;
  const rpcVariableInvalid = errors.some((e) => /RPC_URL$/.test(e.variable));
  if (requirePaymentRpcVerification && paymentRpcUrl === null && !rpcVariableInvalid) {
    fail('PEAQOS_PAYMENT_RPC_URL', 'PEAQOS_REQUIRE_PAYMENT_RPC_VERIFICATION=true needs a payment RPC URL');
  }
  const paymentMinConfirmations = int('PEAQOS_PAYMENT_MIN_CONFIRMATIONS', 1, 1, 1000);
  const chainId = int('PEAQOS_CHAIN_ID', 3338, 1, Number.MAX_SAFE_INTEGER);
  const usdtRaw = read('PEAQOS_USDT_CONTRACT');
  if (usdtRaw !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(usdtRaw)) fail('PEAQOS_USDT_CONTRACT', 'must be 0x followed by 40 hex digits');
  const usdtDecimals = int('PEAQOS_USDT_DECIMALS', 6, 0, 36);
  const mcrApiUrl = url('PEAQOS_MCR_API_URL') ?? 'https://mcr.peaq.xyz';
  const mcrCacheTtlMs = int('PEAQOS_MCR_CACHE_TTL_MS', 60_000, 0, 86_400_000);
  const mcrTimeoutMs = int('PEAQOS_MCR_TIMEOUT_MS', 5_000, 100, 60_000);

  const eventStore = oneOf('PEAQOS_EVENT_STORE', ['sqlite', 'eventstoredb'] as const, 'sqlite');
  const sqlitePath = filePath('PEAQOS_SQLITE_PATH', './data/peaqos.db');
  const connection = read('PEAQOS_EVENTSTORE_CONNECTION_STRING');
  if (connection !== undefined && !/^(esdb|kurrentdb)(\+discover)?:\/\/.+/.test(connection)) {
    fail('PEAQOS_EVENTSTORE_CONNECTION_STRING', 'must start with esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://');
  } else if (eventStore === 'eventstoredb' && connection === undefined) {
    fail('PEAQOS_EVENTSTORE_CONNECTION_STRING', 'is required when PEAQOS_EVENT_STORE=eventstoredb');
  }
  const readModelPath = filePath('PEAQOS_READ_MODEL_PATH', './data/read-model.db');
  const catalogRaw = read('PEAQOS_CATALOG_PATH');
  const executeTimeoutMs = int('PEAQOS_EXECUTE_TIMEOUT_MS', 30_000, 1_000, 300_000);

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    warnings,
    config: {
      production,
      host,
      port,
      requireApiAuth,
      apiKeys: [...apiKeys],
      requireAgentPairingAuth,
      machineIdentityVerification,
      agentPairingVerification,
      sessionSecret: sessionSecret!,
      sessionSecretEphemeral,
      agentPairingChallengeTtlMs,
      agentPairingSessionTtlMs,
      machineIdentityChallengeTtlMs,
      requireMarketQuotes,
      marketQuoteTtlMs,
      enforceServicePaymentRails,
      requirePaymentBeforeExecute,
      requirePaymentRpcVerification,
      paymentRpcUrl,
      paymentMinConfirmations,
      chainId,
      usdtContract: usdtRaw ?? null,
      usdtDecimals,
      mcrApiUrl,
      mcrCacheTtlMs,
      mcrTimeoutMs,
      eventStore,
      sqlitePath,
      eventStoreConnectionString: connection ?? null,
      readModelPath,
      catalogPath: catalogRaw === undefined ? null : resolve(cwd, catalogRaw),
      executeTimeoutMs,
    },
  };
}

/** §2.1: one line per invalid variable. */
export function formatConfigErrors(errors: ConfigIssue[]): string {
  return errors.map((e) => `Invalid configuration: ${e.variable}: ${e.reason}`).join('\n');
}

export const APP_CONFIG = Symbol('AppConfig');
