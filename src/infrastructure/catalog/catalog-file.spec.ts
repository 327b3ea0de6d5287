import { contract, minimalCatalogFile } from '../../../test/support/catalog-fixture';
import { CatalogViolation, parseCatalogFile, validateCatalogFile } from './catalog-file';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- files are broken on purpose
type Json = any;

/** The violations of `minimalCatalogFile()` after `change`. */
function violationsAfter(change: (file: Json) => void): CatalogViolation[] {
  const file = minimalCatalogFile();
  change(file);
  const result = validateCatalogFile(file);
  if (result.ok) throw new Error('expected the file to be rejected');
  return result.violations;
}

/** Exactly one violation, at `path`, whose message matches `message`. */
function expectOnly(change: (file: Json) => void, path: string, message: RegExp = /./): void {
  const violations = violationsAfter(change);
  expect(violations).toEqual([{ path, message: expect.stringMatching(message) }]);
}

const secondAdapter = (providerKey: string) => ({ ...minimalCatalogFile().adapters[0], providerKey });

describe('catalogue file (§2.5)', () => {
  describe('a valid file', () => {
    it('is accepted', () => {
      const result = validateCatalogFile(minimalCatalogFile());
      expect(result.ok).toBe(true);
    });

    it('gets the presence rules of §6.2: `T | null` members filled with null, `?: T` members omitted', () => {
      const result = validateCatalogFile(minimalCatalogFile());
      if (!result.ok) throw new Error('rejected');
      const [service] = result.contents.services;
      expect(service.pricing).toEqual({ mode: 'fixed', amount: 0.5, currency: 'USDT', rate: null, notes: [] });
      expect(service.handoff).toBeNull();
      expect(service.endpoints[0]).toEqual({
        label: null,
        operation: null,
        url: 'https://api.acme.example/price',
        method: 'GET',
        path: null,
        providerName: null,
        key: null,
        protocols: [],
        networks: [],
      });
      expect(service).not.toHaveProperty('referenceUrl');
      expect(service).not.toHaveProperty('artifactUrl');
      expect(Object.keys(service.payment).sort()).toEqual(['amount', 'currency', 'defaultRail', 'required', 'supportedRails']);
      expect(service.operationContracts[0].inputFields[0]).not.toHaveProperty('description');
    });

    it('upper-cases currency codes (§0.6)', () => {
      const result = validateCatalogFile(minimalCatalogFile());
      if (!result.ok) throw new Error('rejected');
      expect(result.contents.services[0].pricing.currency).toBe('USDT');
      expect(result.contents.services[0].payment.currency).toBe('USDT');
    });

    it('treats null in optional members as unset, and accepts an empty catalogue', () => {
      const file = minimalCatalogFile();
      file.services[0].referenceUrl = null;
      file.services[0].payment.payTo = null;
      file.adapters[0].docsUrl = null;
      const result = validateCatalogFile(file);
      if (!result.ok) throw new Error(JSON.stringify(result.violations));
      expect(result.contents.services[0]).not.toHaveProperty('referenceUrl');
      expect(result.contents.services[0].payment).not.toHaveProperty('payTo');
      expect(result.contents.adapters[0].docsUrl).toBeNull();
      expect(validateCatalogFile({ version: 1, skills: [], adapters: [], services: [] }).ok).toBe(true);
    });

    it('accepts a UTF-8 byte order mark before the JSON', () => {
      expect(parseCatalogFile('\uFEFF' + JSON.stringify(minimalCatalogFile())).ok).toBe(true);
    });
  });

  describe('the file as a whole', () => {
    it('rejects text that is not JSON', () => {
      const result = parseCatalogFile('{"version": 1,');
      expect(result).toEqual({ ok: false, violations: [{ path: '$', message: expect.stringMatching(/^is not valid JSON/) }] });
    });

    it.each([
      ['an array', []],
      ['a string', 'catalog'],
      ['null', null],
    ])('rejects %s instead of an object', (_, value) => {
      expect(validateCatalogFile(value)).toEqual({ ok: false, violations: [{ path: '$', message: expect.stringMatching(/JSON object/) }] });
    });
  });

  describe('rule: version is 1', () => {
    it.each([2, '1', 0])('rejects version %p', (version) => expectOnly((f) => (f.version = version), '$.version', /must be 1/));
    it('rejects a missing version', () => expectOnly((f) => delete f.version, '$.version', /required/));
  });

  describe('rule: all enum values are valid', () => {
    it.each([
      ['a skill serviceTypes entry', (f: Json) => (f.skills[0].serviceTypes = ['oracle.pricefeed']), '$.skills[0].serviceTypes[0]'],
      ['a skill executionMode', (f: Json) => (f.skills[0].executionMode = 'remote'), '$.skills[0].executionMode'],
      ['a skill integrationStatus', (f: Json) => (f.skills[0].integrationStatus = 'ready'), '$.skills[0].integrationStatus'],
      ['an adapter integrationStatus', (f: Json) => (f.adapters[0].integrationStatus = 'docs_only'), '$.adapters[0].integrationStatus'],
      ['an adapter authType', (f: Json) => (f.adapters[0].authType = 'oauth'), '$.adapters[0].authType'],
      ['a service executionMode', (f: Json) => (f.services[0].executionMode = 'external_handoff'), '$.services[0].executionMode'],
      ['a service integrationStatus', (f: Json) => (f.services[0].integrationStatus = 'Native'), '$.services[0].integrationStatus'],
      ['a service authType', (f: Json) => (f.services[0].authType = 'basic'), '$.services[0].authType'],
      ['a service accessMode', (f: Json) => (f.services[0].accessMode = 'private'), '$.services[0].accessMode'],
      ['a service distribution', (f: Json) => (f.services[0].distribution = 'npm'), '$.services[0].distribution'],
      ['a service maturity', (f: Json) => (f.services[0].maturity = 'alpha'), '$.services[0].maturity'],
      ['a service kind', (f: Json) => (f.services[0].kind = 'proxy'), '$.services[0].kind'],
      ['a pricing mode', (f: Json) => (f.services[0].pricing.mode = 'free'), '$.services[0].pricing.mode'],
      [
        'an operation field type',
        (f: Json) => (f.services[0].operationContracts[0].inputFields[0].type = 'int'),
        '$.services[0].operationContracts[0].inputFields[0].type',
      ],
    ])('rejects an invalid %s', (_, change, path) => expectOnly(change, path, /must be .*: one of /));

    it('rejects a service serviceType that is no ServiceType (and so in no skill)', () => {
      const violations = violationsAfter((f) => (f.services[0].serviceType = 'oracle.price'));
      expect(violations).toEqual([{ path: '$.services[0].serviceType', message: expect.stringMatching(/must be a ServiceType/) }]);
    });
  });

  describe('rule: payment rails are MarketPaymentRailType values', () => {
    it('rejects an unknown defaultRail', () =>
      expectOnly((f) => (f.services[0].payment.defaultRail = 'usdt'), '$.services[0].payment.defaultRail', /MarketPaymentRailType/));
    it('rejects an unknown supportedRails entry', () =>
      expectOnly(
        (f) => (f.services[0].payment.supportedRails = ['wallet', 'not_required']),
        '$.services[0].payment.supportedRails[1]',
        /MarketPaymentRailType/,
      ));
  });

  describe('rule: payment.amount, when present, is a decimal string', () => {
    it.each([0.5, '-1', '1e3', '.5', '1,000', '01.5', `0.${'1'.repeat(37)}`])('rejects %p', (amount) =>
      expectOnly((f) => (f.services[0].payment.amount = amount), '$.services[0].payment.amount', /decimal string/),
    );
    it('accepts an absent amount', () => {
      const file = minimalCatalogFile();
      delete file.services[0].payment.amount;
      expect(validateCatalogFile(file).ok).toBe(true);
    });
  });

  describe('rule: all keys match the catalogue key pattern (§0.5)', () => {
    it.each([
      ['a skill key', (f: Json) => (f.skills[0].key = 'Oracle.price-feed'), '$.skills[0].key'],
      ['a skill providerKey', (f: Json) => (f.skills[0].providerKey = 'ACME'), '$.skills[0].providerKey'],
      ['an adapter providerKey', (f: Json) => (f.adapters[0].providerKey = 'acme corp'), '$.adapters[0].providerKey'],
      ['a service id', (f: Json) => (f.services[0].id = '-acme.feed'), '$.services[0].id'],
      ['a service skillKey', (f: Json) => (f.services[0].skillKey = 'oracle/price-feed'), '$.services[0].skillKey'],
      ['a service providerKey', (f: Json) => (f.services[0].providerKey = 'Acme'), '$.services[0].providerKey'],
    ])('rejects %s that is not a catalogue key', (_, change, path) => {
      // Only the key is reported: rules that depend on it skip a key that is malformed.
      expect(violationsAfter(change)).toContainEqual({ path, message: expect.stringMatching(/catalogue key/) });
      expect(violationsAfter(change).filter((v) => /catalogue key/.test(v.message))).toHaveLength(1);
    });

    it('rejects a key longer than 128 characters', () =>
      expectOnly((f) => (f.services[0].id = `a${'b'.repeat(128)}`), '$.services[0].id', /catalogue key/));
  });

  describe('rule: skill keys, service ids and adapter provider keys are unique', () => {
    it('rejects a second skill with the same key', () =>
      expectOnly(
        (f) => f.skills.push({ ...f.skills[0] }),
        '$.skills[1].key',
        /duplicates the skill key "oracle.price-feed" of \$\.skills\[0\]/,
      ));
    it('rejects a second service with the same id', () =>
      expectOnly((f) => f.services.push({ ...f.services[0] }), '$.services[1].id', /duplicates the service id "acme.feed"/));
    it('rejects a second adapter with the same provider key', () =>
      expectOnly((f) => f.adapters.push(secondAdapter('acme')), '$.adapters[1].providerKey', /duplicates the adapter provider key/));
  });

  describe('rule: every provider key has an adapter', () => {
    it('rejects a skill whose providerKey names no adapter', () =>
      expectOnly((f) => (f.skills[0].providerKey = 'globex'), '$.skills[0].providerKey', /names no adapter/));
    it('rejects a service whose providerKey names no adapter', () =>
      expectOnly((f) => (f.services[0].providerKey = 'globex'), '$.services[0].providerKey', /names no adapter/));
  });

  describe('rule: a service fits its skill', () => {
    it('rejects a skillKey that names no skill', () =>
      expectOnly((f) => (f.services[0].skillKey = 'oracle.weather'), '$.services[0].skillKey', /names no skill/));
    it("rejects a serviceType that is not one of the skill's serviceTypes", () =>
      expectOnly(
        (f) => (f.services[0].serviceType = 'data.location'),
        '$.services[0].serviceType',
        /"data.location" is not one of the serviceTypes of skill "oracle.price-feed"/,
      ));
    it("rejects an operation that is not one of the skill's operations", () =>
      expectOnly(
        (f) => {
          f.services[0].operations = ['get-price', 'get-volume'];
          f.services[0].operationContracts.push(contract('get-volume'));
        },
        '$.services[0].operations[1]',
        /"get-volume" is not an operation of skill "oracle.price-feed"/,
      ));
  });

  describe('rule: exactly one operation contract per operation, none for others', () => {
    it('rejects a service without a contract for one of its operations', () =>
      expectOnly(
        (f) => (f.services[0].operations = ['get-price', 'get-price-history']),
        '$.services[0].operationContracts',
        /has no contract for operation "get-price-history"/,
      ));
    it('rejects two contracts for the same operation', () =>
      expectOnly(
        (f) => f.services[0].operationContracts.push(contract('get-price')),
        '$.services[0].operationContracts[1].operation',
        /second contract for operation "get-price"/,
      ));
    it('rejects a contract for an operation the service does not list', () =>
      expectOnly(
        (f) => f.services[0].operationContracts.push(contract('get-price-history')),
        '$.services[0].operationContracts[1].operation',
        /"get-price-history" is not one of the service's operations/,
      ));
  });

  describe('shape of the entries', () => {
    it.each([
      ['a missing required member', (f: Json) => delete f.services[0].companyName, '$.services[0].companyName', /is required/],
      ['a member of the wrong type', (f: Json) => (f.services[0].freshnessSeconds = '60'), '$.services[0].freshnessSeconds', /integer/],
      ['an unknown member', (f: Json) => (f.skills[0].labels = {}), '$.skills[0].labels', /not a member of a SkillSummary/],
      ['a computed consumption', (f: Json) => (f.services[0].consumption = {}), '$.services[0].consumption', /computed by the server/],
      ['a computed endpoint', (f: Json) => (f.services[0].endpoint = null), '$.services[0].endpoint', /computed by the server/],
      ['a negative price', (f: Json) => (f.services[0].pricing.amount = -1), '$.services[0].pricing.amount', />= 0/],
      ['a malformed currency', (f: Json) => (f.services[0].pricing.currency = 'US DOLLAR'), '$.services[0].pricing.currency', /currency/],
      ['an upper-case region', (f: Json) => (f.services[0].region = 'EU'), '$.services[0].region', /lower-case region/],
      [
        'a handoff URL that is not http(s)',
        (f: Json) => (f.services[0].handoff = { label: 'Console', url: 'ftp://x', notes: [] }),
        '$.services[0].handoff.url',
        /URL/,
      ],
      ['a service without operations', (f: Json) => (f.services[0].operations = []), '$.services[0].operations', /at least 1/],
      [
        'a repeated operation',
        (f: Json) => (f.services[0].operations = ['get-price', 'get-price']),
        '$.services[0].operations[1]',
        /duplicates/,
      ],
      [
        'exampleInput that is not an object',
        (f: Json) => (f.services[0].operationContracts[0].exampleInput = []),
        '$.services[0].operationContracts[0].exampleInput',
        /JSON object/,
      ],
      ['a skills member that is not an array', (f: Json) => (f.skills = {}), '$.skills', /array/],
    ])('rejects %s', (_, change, path, message) => {
      expect(violationsAfter(change)).toContainEqual({ path, message: expect.stringMatching(message) });
    });
  });

  it('reports every violation at once, with JSON paths', () => {
    const violations = violationsAfter((f) => {
      f.version = 2;
      f.adapters[0].authType = 'oauth';
      f.services[0].payment.defaultRail = 'card';
      f.services[0].skillKey = 'oracle.weather';
      f.services[0].operationContracts = [];
    });
    expect(violations.map((v) => v.path).sort()).toEqual([
      '$.adapters[0].authType',
      '$.services[0].operationContracts',
      '$.services[0].payment.defaultRail',
      '$.services[0].skillKey',
      '$.version',
    ]);
  });
});
