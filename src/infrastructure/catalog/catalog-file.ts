import {
  ACCESS_MODES,
  AdapterSetup,
  AUTH_TYPES,
  CATALOGUE_KEY,
  CatalogServiceWithContracts,
  DISTRIBUTIONS,
  EXECUTION_MODES,
  INTEGRATION_STATUSES,
  MATURITIES,
  OPERATION_FIELD_TYPES,
  PAYMENT_RAIL_TYPES,
  PRICING_MODES,
  SERVICE_KINDS,
  SERVICE_TYPES,
  SkillSummary,
} from '../../domain/catalog/catalog-types';
import { isDecimalString } from '../../domain/shared/decimal';

/** One broken rule of the catalogue file: where (a JSONPath such as `$.services[3].payment.defaultRail`) and what. */
export type CatalogViolation = { path: string; message: string };

/** A service as the file holds it, presence rules applied; `consumption` and `endpoint` are computed on load (§6.2). */
export type CatalogFileService = Omit<CatalogServiceWithContracts, 'consumption' | 'endpoint'>;

/** §2.5 `CatalogFile`, validated, with the presence rules of §6.2 applied and currency codes upper-cased (§0.6). */
export type CatalogFileContents = { version: 1; skills: SkillSummary[]; adapters: AdapterSetup[]; services: CatalogFileService[] };

export type CatalogFileResult = { ok: true; contents: CatalogFileContents } | { ok: false; violations: CatalogViolation[] };

/**
 * Parses and validates the text of a catalogue file (§2.5). Every violation is reported, not only the
 * first, so that an operator fixes the file in one pass.
 */
export function parseCatalogFile(text: string): CatalogFileResult {
  let value: unknown;
  try {
    // A UTF-8 byte order mark is not JSON, but editors write one; it carries no meaning.
    value = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (error) {
    return { ok: false, violations: [{ path: '$', message: `is not valid JSON (${(error as Error).message})` }] };
  }
  return validateCatalogFile(value);
}

/** Validates an already parsed catalogue file (§2.5). */
export function validateCatalogFile(value: unknown): CatalogFileResult {
  const violations: CatalogViolation[] = [];
  const file = CATALOG_FILE(value, '$', violations);
  if (file !== INVALID) crossCheck(file as Obj, violations);
  if (violations.length > 0) return { ok: false, violations };
  return { ok: true, contents: file as unknown as CatalogFileContents };
}

// ---- structural readers ------------------------------------------------------------------------------
// A reader checks one JSON value and returns what the catalogue keeps of it (possibly normalised), or
// INVALID after recording why. Objects come back partial when some member is invalid, and lists keep
// `undefined` in place of invalid entries, so that the cross-entity rules still run on everything that
// is well-formed and report with the right indices.

const INVALID = Symbol('invalid');
type Obj = Record<string, unknown>;
type Read = (value: unknown, path: string, out: CatalogViolation[]) => unknown;

function fail(out: CatalogViolation[], path: string, message: string): typeof INVALID {
  out.push({ path, message });
  return INVALID;
}

const CONTROL = /\p{Cc}/u;

function text(max: number, min = 1): Read {
  return (value, path, out) => {
    if (typeof value !== 'string') return fail(out, path, 'must be a string');
    const length = [...value].length;
    if (length < min || length > max) return fail(out, path, `must be ${min}–${max} characters long`);
    if (CONTROL.test(value.replace(/\n/g, ''))) return fail(out, path, 'must not contain control characters');
    return value;
  };
}

/** §0.5 catalogue keys: skill keys, service ids, provider keys. */
const key: Read = (value, path, out) =>
  typeof value === 'string' && CATALOGUE_KEY.test(value)
    ? value
    : fail(out, path, `must be a catalogue key matching ${CATALOGUE_KEY.source}`);

function oneOf(values: readonly string[], what: string): Read {
  return (value, path, out) =>
    typeof value === 'string' && values.includes(value) ? value : fail(out, path, `must be ${what}: one of ${values.join(', ')}`);
}

const bool: Read = (value, path, out) => (typeof value === 'boolean' ? value : fail(out, path, 'must be true or false'));

const nonNegativeInteger: Read = (value, path, out) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fail(out, path, 'must be a non-negative integer');

/** §0.6: numeric amounts are finite and `>= 0`. */
const amount: Read = (value, path, out) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fail(out, path, 'must be a finite number >= 0');

/** §0.6 decimal string, human units. */
const decimal: Read = (value, path, out) =>
  isDecimalString(value)
    ? value
    : fail(out, path, 'must be a decimal string (e.g. "0.25": no sign, no exponent, at most 36 fractional digits)');

/** §0.6: 2–16 characters of `[A-Za-z0-9]`, kept upper-cased. */
const currency: Read = (value, path, out) =>
  typeof value === 'string' && /^[A-Za-z0-9]{2,16}$/.test(value)
    ? value.toUpperCase()
    : fail(out, path, 'must be a currency code of 2–16 characters of [A-Za-z0-9]');

/** §6.2: a lower-case region name, `global` for services that serve every region. */
const region: Read = (value, path, out) =>
  typeof value === 'string' && /^[a-z0-9][a-z0-9._:-]{0,63}$/.test(value)
    ? value
    : fail(out, path, 'must be a lower-case region name of 1–64 characters of [a-z0-9._:-] (or "global")');

const url: Read = (value, path, out) => {
  if (typeof value === 'string' && !/\s/.test(value)) {
    try {
      const parsed = new URL(value);
      if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return value;
    } catch {
      // reported below
    }
  }
  return fail(out, path, 'must be an absolute http: or https: URL');
};

/** Free-form JSON objects (`metadata`, `exampleInput`). */
const freeObject: Read = (value, path, out) => (isObject(value) ? value : fail(out, path, 'must be a JSON object'));

function list(item: Read, options: { min?: number; unique?: boolean } = {}): Read {
  return (value, path, out) => {
    if (!Array.isArray(value)) return fail(out, path, 'must be an array');
    if (options.min !== undefined && value.length < options.min) return fail(out, path, `must have at least ${options.min} entry`);
    const items = value.map((entry, i) => {
      const read = item(entry, `${path}[${i}]`, out);
      return read === INVALID ? undefined : read;
    });
    if (options.unique) {
      const seen = new Map<unknown, number>();
      value.forEach((entry, i) => {
        const first = seen.get(entry);
        if (first === undefined) seen.set(entry, i);
        else fail(out, `${path}[${i}]`, `duplicates entry ${first} (${JSON.stringify(entry)})`);
      });
    }
    return items;
  };
}

/** How an absent (or, for optional members, `null`) member is treated. */
type Member = { read: Read; absent: 'required' | 'omit' | 'null' };
const required = (read: Read): Member => ({ read, absent: 'required' });
/** `name?: T`: omitted when unset (§0.3); `null` in the file counts as unset. */
const optional = (read: Read): Member => ({ read, absent: 'omit' });
/** `name: T | null` and published `name?: T | null`: always present, `null` when unset (§0.3). */
const orNull = (read: Read): Member => ({ read, absent: 'null' });

/** Members the server computes (§2.5); the file must not carry them. */
const COMPUTED_SERVICE_MEMBERS = new Set(['consumption', 'endpoint']);

function object(what: string, schema: Record<string, Member>, computed: ReadonlySet<string> = new Set()): Read {
  return (value, path, out) => {
    if (!isObject(value)) return fail(out, path, `must be ${what} (a JSON object)`);
    for (const name of Object.keys(value)) {
      if (Object.prototype.hasOwnProperty.call(schema, name)) continue;
      fail(
        out,
        `${path}.${name}`,
        computed.has(name) ? 'is computed by the server (§6.2) and must not be in the catalogue file' : `is not a member of ${what}`,
      );
    }
    const result: Obj = {};
    for (const [name, member] of Object.entries(schema)) {
      const memberPath = `${path}.${name}`;
      const raw = Object.prototype.hasOwnProperty.call(value, name) ? value[name] : undefined;
      if (raw === undefined || (raw === null && member.absent !== 'required')) {
        if (member.absent === 'null') result[name] = null;
        else if (member.absent === 'required') fail(out, memberPath, 'is required');
        continue;
      }
      const read = member.read(raw, memberPath, out);
      if (read !== INVALID) result[name] = read;
    }
    return result;
  };
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NOTES = list(text(1000));
const OPERATION = text(128);

const SKILL = object('a SkillSummary', {
  key: required(key),
  providerKey: required(key),
  label: required(text(200)),
  description: required(text(4000, 0)),
  serviceTypes: required(list(oneOf(SERVICE_TYPES, 'a ServiceType'), { min: 1, unique: true })),
  operations: required(list(OPERATION, { min: 1, unique: true })),
  executionMode: required(oneOf(EXECUTION_MODES, 'an ExecutionMode')),
  integrationStatus: required(oneOf(INTEGRATION_STATUSES, 'an IntegrationStatus')),
});

const ADAPTER = object('an AdapterSetup', {
  providerKey: required(key),
  label: required(text(200)),
  integrationStatus: required(oneOf(INTEGRATION_STATUSES, 'an IntegrationStatus')),
  authType: required(oneOf(AUTH_TYPES, 'an authType')),
  credentialFields: required(
    list(
      object('a credential field', {
        key: required(text(128)),
        label: required(text(200)),
        secret: required(bool),
        required: required(bool),
      }),
    ),
  ),
  runtimeEndpointRequired: required(bool),
  docsUrl: orNull(url),
  notes: required(NOTES),
});

const RAIL = oneOf(PAYMENT_RAIL_TYPES, 'a MarketPaymentRailType');

const PRICING = object('a MarketServicePricing', {
  mode: required(oneOf(PRICING_MODES, 'a pricing mode')),
  amount: orNull(amount),
  currency: orNull(currency),
  rate: orNull(text(64)),
  notes: required(NOTES),
});

const PAYMENT = object('a MarketPaymentRailRecommendation', {
  defaultRail: required(RAIL),
  required: required(bool),
  supportedRails: required(list(RAIL, { unique: true })),
  currency: optional(currency),
  amount: optional(decimal),
  payTo: optional(text(256)),
  network: optional(text(64)),
  tokenAddress: optional(text(256)),
});

const ENDPOINT = object('a MarketServiceEndpoint', {
  label: orNull(text(200)),
  operation: orNull(OPERATION),
  url: orNull(url),
  method: orNull(text(16)),
  path: orNull(text(2000)),
  providerName: orNull(text(200)),
  key: orNull(text(200)),
  protocols: required(list(text(64))),
  networks: required(list(text(64))),
});

const HANDOFF = object('an ExternalHandoff', { label: required(text(200)), url: required(url), notes: required(NOTES) });

const FIELD = object('an OperationField', {
  key: required(text(128)),
  type: required(oneOf(OPERATION_FIELD_TYPES, 'an OperationFieldType')),
  description: optional(text(1000)),
  required: required(bool),
});

const CONTRACT = object('an OperationContract', {
  operation: required(OPERATION),
  summary: required(text(500)),
  inputFields: required(list(FIELD)),
  outputFields: required(list(FIELD)),
  exampleInput: required(freeObject),
  notes: required(NOTES),
});

const SERVICE = object(
  'a catalogue service',
  {
    id: required(key),
    skillKey: required(key),
    providerKey: required(key),
    companyName: required(text(200)),
    serviceType: required(oneOf(SERVICE_TYPES, 'a ServiceType')),
    name: required(text(200)),
    description: required(text(4000, 0)),
    operations: required(list(OPERATION, { min: 1, unique: true })),
    pricing: required(PRICING),
    payment: required(PAYMENT),
    endpoints: required(list(ENDPOINT)),
    executionMode: required(oneOf(EXECUTION_MODES, 'an ExecutionMode')),
    integrationStatus: required(oneOf(INTEGRATION_STATUSES, 'an IntegrationStatus')),
    region: required(region),
    capabilities: required(list(text(100))),
    handoff: orNull(HANDOFF),
    metadata: required(freeObject),
    providerId: required(text(200)),
    providerLabel: required(text(200)),
    authType: required(oneOf(AUTH_TYPES, 'an authType')),
    accessMode: required(oneOf(ACCESS_MODES, 'an accessMode')),
    distribution: required(oneOf(DISTRIBUTIONS, 'a distribution')),
    maturity: required(oneOf(MATURITIES, 'a maturity')),
    kind: required(oneOf(SERVICE_KINDS, 'a kind')),
    freshnessSeconds: required(nonNegativeInteger),
    requiresHumanEnablement: required(bool),
    referenceUrl: optional(url),
    artifactUrl: optional(url),
    operationContracts: required(list(CONTRACT)),
  },
  COMPUTED_SERVICE_MEMBERS,
);

const CATALOG_FILE = object('a CatalogFile', {
  version: required((value, path, out) => (value === 1 ? 1 : fail(out, path, 'must be 1'))),
  skills: required(list(SKILL)),
  adapters: required(list(ADAPTER)),
  services: required(list(SERVICE)),
});

// ---- cross-entity rules (§2.5) -----------------------------------------------------------------------

function crossCheck(file: Obj, out: CatalogViolation[]): void {
  const skills = entries(file.skills);
  const adapters = entries(file.adapters);
  const services = entries(file.services);

  const skillByKey = uniqueIndex(skills, 'key', '$.skills', 'skill key', out);
  const adapterByKey = uniqueIndex(adapters, 'providerKey', '$.adapters', 'adapter provider key', out);
  uniqueIndex(services, 'id', '$.services', 'service id', out);

  for (const [i, skill] of skills) {
    if (typeof skill.providerKey === 'string' && !adapterByKey.has(skill.providerKey)) {
      fail(out, `$.skills[${i}].providerKey`, `names no adapter (no adapters[].providerKey is ${JSON.stringify(skill.providerKey)})`);
    }
  }

  for (const [i, service] of services) {
    const at = `$.services[${i}]`;
    if (typeof service.providerKey === 'string' && !adapterByKey.has(service.providerKey)) {
      fail(out, `${at}.providerKey`, `names no adapter (no adapters[].providerKey is ${JSON.stringify(service.providerKey)})`);
    }
    const operations = strings(service.operations) ?? [];
    if (typeof service.skillKey === 'string') {
      const skill = skillByKey.get(service.skillKey);
      if (!skill) {
        fail(out, `${at}.skillKey`, `names no skill (no skills[].key is ${JSON.stringify(service.skillKey)})`);
      } else {
        // A skill list with an invalid entry was reported already; membership in it proves nothing.
        const skillTypes = strings(skill.serviceTypes);
        if (typeof service.serviceType === 'string' && skillTypes && !skillTypes.includes(service.serviceType)) {
          fail(
            out,
            `${at}.serviceType`,
            `${JSON.stringify(service.serviceType)} is not one of the serviceTypes of skill ${JSON.stringify(skill.key)}`,
          );
        }
        const skillOperations = strings(skill.operations);
        if (skillOperations) {
          operations.forEach((operation, j) => {
            if (!skillOperations.includes(operation)) {
              fail(out, `${at}.operations[${j}]`, `${JSON.stringify(operation)} is not an operation of skill ${JSON.stringify(skill.key)}`);
            }
          });
        }
      }
    }
    checkContracts(service, operations, at, out);
  }
}

/** §2.5: exactly one OperationContract per entry of `operations`, and none for other operations. */
function checkContracts(service: Obj, operations: string[], at: string, out: CatalogViolation[]): void {
  if (!Array.isArray(service.operationContracts) || strings(service.operations) === null) return;
  const contractAt = new Map<string, number>();
  (service.operationContracts as unknown[]).forEach((contract, j) => {
    if (!isObject(contract) || typeof contract.operation !== 'string') return;
    const path = `${at}.operationContracts[${j}].operation`;
    const first = contractAt.get(contract.operation);
    if (first !== undefined) {
      fail(out, path, `is a second contract for operation ${JSON.stringify(contract.operation)} (first at operationContracts[${first}])`);
    } else {
      contractAt.set(contract.operation, j);
      if (!operations.includes(contract.operation))
        fail(out, path, `${JSON.stringify(contract.operation)} is not one of the service's operations`);
    }
  });
  for (const operation of operations) {
    if (!contractAt.has(operation)) {
      fail(out, `${at}.operationContracts`, `has no contract for operation ${JSON.stringify(operation)}`);
    }
  }
}

/** The list when every entry of it is a (valid) string, else null. */
function strings(value: unknown): string[] | null {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string') ? (value as string[]) : null;
}

function entries(value: unknown): Array<[number, Obj]> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry, i): Array<[number, Obj]> => (isObject(entry) ? [[i, entry]] : []));
}

function uniqueIndex(items: Array<[number, Obj]>, member: string, at: string, what: string, out: CatalogViolation[]): Map<string, Obj> {
  const byKey = new Map<string, Obj>();
  const indexOf = new Map<string, number>();
  for (const [i, item] of items) {
    const value = item[member];
    if (typeof value !== 'string') continue;
    const first = indexOf.get(value);
    if (first !== undefined) {
      fail(out, `${at}[${i}].${member}`, `duplicates the ${what} ${JSON.stringify(value)} of ${at}[${first}]`);
      continue;
    }
    indexOf.set(value, i);
    byKey.set(value, item);
  }
  return byKey;
}
