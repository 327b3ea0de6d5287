import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { contract, minimalCatalogFile, SERVICE_MEMBERS, writeCatalogFile } from '../../../test/support/catalog-fixture';
import {
  EXECUTION_MODES,
  INTEGRATION_STATUSES,
  OperationField,
  SERVICE_TYPES,
  CatalogServiceWithContracts,
} from '../../domain/catalog/catalog-types';
import { StartupError } from '../core/startup-error';
import { validateCatalogFile } from './catalog-file';
import { catalogPathOf, LoadedCatalog, readCatalog, shippedCatalogPath } from './loaded-catalog';

const ROOT = resolve(__dirname, '../../..');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- catalogue files are JSON
function loaded(file: any = minimalCatalogFile()): LoadedCatalog {
  const result = validateCatalogFile(file);
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
  return new LoadedCatalog(result.contents);
}

function startupError(fn: () => unknown): StartupError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StartupError) return error;
    throw error;
  }
  throw new Error('expected a StartupError');
}

describe('LoadedCatalog', () => {
  /** Two skills, three adapters and three services, listed out of order in the file. */
  function unsortedFile() {
    const file = minimalCatalogFile();
    file.skills.unshift({ ...file.skills[0], key: 'storage.object', serviceTypes: ['storage.object'], operations: ['put-object'] });
    file.adapters.unshift({ ...file.adapters[0], providerKey: 'zeta' }, { ...file.adapters[0], providerKey: 'acme-2' });
    const base = file.services[0];
    file.services = [
      { ...base, id: 'acme.feed.z' },
      { ...base, id: 'acme.feed' },
      { ...base, id: 'acme-feed', providerKey: 'zeta', endpoints: [], operations: ['get-price-history', 'get-price'] },
    ];
    file.services[2].operationContracts = [contract('get-price'), contract('get-price-history')];
    return file;
  }

  it('sorts skills by key, services by id and adapters by providerKey (UTF-16 code units)', () => {
    const catalog = loaded(unsortedFile());
    expect(catalog.skills().map((s) => s.key)).toEqual(['oracle.price-feed', 'storage.object']);
    // '-' (0x2D) sorts before '.' (0x2E)
    expect(catalog.services().map((s) => s.id)).toEqual(['acme-feed', 'acme.feed', 'acme.feed.z']);
    expect(catalog.adapters().map((a) => a.providerKey)).toEqual(['acme', 'acme-2', 'zeta']);
  });

  it('looks entries up by key and counts them for readiness (§3.2)', () => {
    const catalog = loaded(unsortedFile());
    expect(catalog.skill('storage.object')?.key).toBe('storage.object');
    expect(catalog.service('acme-feed')?.providerKey).toBe('zeta');
    expect(catalog.adapter('acme-2')?.providerKey).toBe('acme-2');
    expect([catalog.skill('nope'), catalog.service('nope'), catalog.adapter('ACME')]).toEqual([undefined, undefined, undefined]);
    expect({ services: catalog.serviceCount(), skills: catalog.skillCount() }).toEqual({ services: 3, skills: 2 });
  });

  it('computes consumption with the exact paths of §6.2', () => {
    expect(loaded().service('acme.feed')!.consumption).toEqual({
      adapterSetupPath: '/api/v1/market/adapters/acme',
      serviceDetailPath: '/api/v1/market/services/acme.feed',
      marketSearchPath: '/api/v1/market/search',
      orderCreatePath: '/api/v1/market/orders',
    });
  });

  it('sets endpoint to endpoints[0], or null when there is none (§6.2)', () => {
    const catalog = loaded(unsortedFile());
    const withEndpoint = catalog.service('acme.feed')!;
    expect(withEndpoint.endpoint).toEqual(withEndpoint.endpoints[0]);
    expect(catalog.service('acme-feed')!.endpoint).toBeNull();
  });

  it('orders operation contracts like operations', () => {
    const service = loaded(unsortedFile()).service('acme-feed')!;
    expect(service.operationContracts.map((c) => c.operation)).toEqual(['get-price-history', 'get-price']);
  });

  it('keeps the members of a service in the published order, optional URLs only when set', () => {
    const file = minimalCatalogFile();
    file.services[0].artifactUrl = 'https://artifacts.acme.example/feed.tar.gz';
    const service = loaded(file).service('acme.feed')!;
    expect(Object.keys(service)).toEqual([...SERVICE_MEMBERS, 'artifactUrl', 'operationContracts']);
  });

  it('cannot be changed after loading', () => {
    const service = loaded().service('acme.feed')!;
    expect(Object.isFrozen(service)).toBe(true);
    expect(Object.isFrozen(service.pricing.notes)).toBe(true);
    expect(Object.isFrozen(loaded().skills())).toBe(true);
  });
});

describe('readCatalog: a broken file stops the start naming PEAQOS_CATALOG_PATH (§2.4)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'peaqos-catalog-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a valid file', () => {
    expect(readCatalog(writeCatalogFile(dir, minimalCatalogFile())).serviceCount()).toBe(1);
  });

  it('fails for a missing file', () => {
    const error = startupError(() => readCatalog(join(dir, 'missing.json')));
    expect(error.variable).toBe('PEAQOS_CATALOG_PATH');
    expect(error.message).toMatch(/^Invalid configuration: PEAQOS_CATALOG_PATH: cannot read the catalogue file .*missing\.json/);
  });

  it('fails for a directory', () => {
    expect(startupError(() => readCatalog(dir)).message).toMatch(/^Invalid configuration: PEAQOS_CATALOG_PATH: cannot read/);
  });

  it('fails for a file that is not JSON', () => {
    const error = startupError(() => readCatalog(writeCatalogFile(dir, 'version: 1')));
    expect(error.message).toMatch(
      /^Invalid configuration: PEAQOS_CATALOG_PATH: .* is not a valid catalogue file: 1 violation: \$ is not valid JSON/,
    );
  });

  it('fails for a file that breaks a rule, naming the JSON path, on one line', () => {
    const file = minimalCatalogFile();
    file.services[0].payment.defaultRail = 'card';
    const error = startupError(() => readCatalog(writeCatalogFile(dir, file)));
    expect(error.message).toMatch(/1 violation: \$\.services\[0\]\.payment\.defaultRail must be a MarketPaymentRailType/);
    expect(error.message).not.toContain('\n');
  });

  it('names the first 20 violations and counts the rest', () => {
    const file = minimalCatalogFile();
    file.skills = Array.from({ length: 25 }, (_, i) => ({ ...file.skills[0], key: `skill.${i}`, providerKey: 'nobody' }));
    const error = startupError(() => readCatalog(writeCatalogFile(dir, file)));
    expect(error.message).toContain('26 violations: ');
    expect(error.message).toMatch(/; … and 6 more$/);
  });
});

describe('the catalogue path (§2.2)', () => {
  it('is PEAQOS_CATALOG_PATH when set', () => {
    expect(catalogPathOf({ catalogPath: '/etc/peaqos/catalog.json' })).toBe('/etc/peaqos/catalog.json');
  });

  it('is the shipped catalog/catalog.json at the package root otherwise, from src/ and from dist/', () => {
    const shipped = join(ROOT, 'catalog', 'catalog.json');
    expect(catalogPathOf({ catalogPath: null })).toBe(shipped);
    expect(shippedCatalogPath(join(ROOT, 'src', 'infrastructure', 'catalog'))).toBe(shipped);
    expect(shippedCatalogPath(join(ROOT, 'dist', 'infrastructure', 'catalog'))).toBe(shipped);
  });

  it('needs package.json beside catalog/ (a stray catalog/catalog.json deeper down is not the shipped one)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'peaqos-shipped-'));
    try {
      const nested = join(dir, 'pkg', 'dist', 'infrastructure', 'catalog');
      mkdirSync(join(dir, 'pkg', 'dist', 'catalog'), { recursive: true });
      writeFileSync(join(dir, 'pkg', 'dist', 'catalog', 'catalog.json'), '{}');
      expect(startupError(() => shippedCatalogPath(nested)).message).toMatch(
        /^Invalid configuration: PEAQOS_CATALOG_PATH: is not set and the shipped catalogue .* was not found/,
      );
      mkdirSync(join(dir, 'pkg', 'catalog'));
      writeFileSync(join(dir, 'pkg', 'catalog', 'catalog.json'), '{}');
      writeFileSync(join(dir, 'pkg', 'package.json'), '{}');
      expect(shippedCatalogPath(nested)).toBe(join(dir, 'pkg', 'catalog', 'catalog.json'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the shipped catalogue (catalog/catalog.json)', () => {
  const catalog = readCatalog(shippedCatalogPath());
  const services = catalog.services();

  it('has one skill per ServiceType, keyed by it', () => {
    expect(catalog.skills().map((s) => s.key)).toEqual([...SERVICE_TYPES].sort());
    for (const skill of catalog.skills()) expect(skill.serviceTypes).toContain(skill.key);
  });

  it('covers every ExecutionMode and IntegrationStatus', () => {
    expect(new Set(services.map((s) => s.executionMode))).toEqual(new Set(EXECUTION_MODES));
    expect(new Set(services.map((s) => s.integrationStatus))).toEqual(new Set(INTEGRATION_STATUSES));
    expect(services.length).toBeGreaterThanOrEqual(20);
  });

  it('covers the payment rail families: free, x402, wallet and WDK USDT, escrow, on-chain escrow, handoff', () => {
    const rails = new Set(services.map((s) => s.payment.defaultRail));
    for (const rail of ['not-required', 'x402', 'wallet', 'wdk-usdt-transfer', 'escrow', 'onchain-escrow', 'external']) {
      expect(rails).toContain(rail);
    }
  });

  it('catalogues pay.sh services with the x402 rail (§10.1 item 42)', () => {
    const paySh = services.filter((s) => s.providerKey === 'pay-sh');
    expect(paySh.length).toBeGreaterThan(0);
    for (const service of paySh) expect(service.payment).toMatchObject({ defaultRail: 'x402', required: true, supportedRails: ['x402'] });
  });

  it('gives USDT-on-peaq services a payee, the network and the token', () => {
    const usdt = services.filter((s) => s.payment.network === 'peaq');
    expect(usdt.length).toBeGreaterThan(0);
    for (const service of usdt) {
      expect(service.payment).toMatchObject({ currency: 'USDT', payTo: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/) });
      expect(service.payment.tokenAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);
    }
  });

  it('states a payment amount equal to the price for fixed-price paid services', () => {
    const fixed = services.filter((s) => s.pricing.mode === 'fixed' && s.pricing.amount !== null && s.pricing.amount > 0);
    expect(fixed.filter((s) => s.pricing.currency === 'USDT').length).toBeGreaterThanOrEqual(3);
    for (const service of fixed) {
      expect(service.payment.amount).toBe(String(service.pricing.amount));
      expect(service.payment.currency).toBe(service.pricing.currency);
    }
  });

  it('needs no payment for free services, and no price for them', () => {
    for (const service of services.filter((s) => s.payment.defaultRail === 'not-required')) {
      expect(service.payment).toEqual({ defaultRail: 'not-required', required: false, supportedRails: ['not-required'] });
      expect(service.pricing.amount ?? 0).toBe(0);
    }
  });

  it('runs local-config-required services on a runtime endpoint of their adapter', () => {
    const local = services.filter((s) => s.integrationStatus === 'local-config-required');
    expect(local.length).toBeGreaterThan(0);
    for (const service of local) expect(catalog.adapter(service.providerKey)?.runtimeEndpointRequired).toBe(true);
  });

  it('gives every external-handoff service a handoff and lists regions in lower case, global among them', () => {
    for (const service of services.filter((s) => s.executionMode === 'external-handoff')) {
      expect(service.handoff).toEqual({ label: expect.any(String), url: expect.stringMatching(/^https:\/\//), notes: expect.any(Array) });
    }
    const regions = new Set(services.map((s) => s.region));
    expect(regions).toContain('global');
    expect(regions.size).toBeGreaterThanOrEqual(4);
    for (const region of regions) expect(region).toBe(region.toLowerCase());
  });

  it('gives every contract an exampleInput with every required input field, of its type', () => {
    const typeOf = (value: unknown): OperationField['type'] =>
      Array.isArray(value)
        ? 'array'
        : typeof value === 'number'
          ? Number.isInteger(value)
            ? 'integer'
            : 'number'
          : (typeof value as OperationField['type']);
    const fits = (field: OperationField, value: unknown) =>
      typeOf(value) === field.type || (field.type === 'number' && typeOf(value) === 'integer');
    for (const service of services as readonly CatalogServiceWithContracts[]) {
      for (const contract of service.operationContracts) {
        for (const field of contract.inputFields) {
          const value = contract.exampleInput[field.key];
          if (field.required)
            expect({ service: service.id, field: field.key, present: value !== undefined }).toMatchObject({ present: true });
          if (value !== undefined)
            expect({ service: service.id, field: field.key, fits: fits(field, value) }).toMatchObject({ fits: true });
        }
        for (const key of Object.keys(contract.exampleInput)) expect(contract.inputFields.map((f) => f.key)).toContain(key);
      }
    }
  });
});
