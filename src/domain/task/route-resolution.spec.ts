import { MarketServiceEndpoint } from '../catalog/catalog-types';
import {
  isUsableRuntimeEndpoint,
  providerEndpoint,
  RoutableService,
  RouteResolutionInput,
  routeCandidates,
  RuntimeEndpointCandidate,
} from './route-resolution';

const endpoint = (overrides: Partial<MarketServiceEndpoint> = {}): MarketServiceEndpoint => ({
  operation: null,
  url: 'https://api.example.com',
  path: null,
  protocols: [],
  networks: [],
  ...overrides,
});

const service = (overrides: Partial<RoutableService> = {}): RoutableService => ({
  executionMode: 'native',
  integrationStatus: 'native',
  handoff: null,
  endpoints: [endpoint()],
  providerKey: 'acme',
  ...overrides,
});

const rte = (overrides: Partial<RuntimeEndpointCandidate> = {}): RuntimeEndpointCandidate => ({
  id: 'rte_1',
  endpointBaseUrl: 'https://machine.local:8443',
  source: 'agent',
  status: 'active',
  ...overrides,
});

const input = (overrides: Partial<RouteResolutionInput> = {}): RouteResolutionInput => ({
  service: service(),
  adapterRuntimeEndpointRequired: false,
  operation: 'quote',
  usableRuntimeEndpoint: null,
  ...overrides,
});

describe('§8.5.2 route resolution', () => {
  describe('external-handoff services', () => {
    const handoffService = (overrides: Partial<RoutableService> = {}) =>
      service({
        executionMode: 'external-handoff',
        handoff: { label: 'Console', url: 'https://console.example.com', notes: [] },
        ...overrides,
      });

    it('routes to handoff.url with the reason "external handoff to {url}"', () => {
      expect(routeCandidates(input({ service: handoffService() }))).toEqual({
        ok: true,
        candidates: [
          {
            target: 'handoff',
            url: 'https://console.example.com',
            runtimeEndpointId: null,
            reason: 'external handoff to https://console.example.com',
          },
        ],
      });
    });

    it('falls back to the first service endpoint url', () => {
      const result = routeCandidates(
        input({ service: handoffService({ handoff: null, endpoints: [endpoint({ url: 'https://first.example.com' }), endpoint()] }) }),
      );
      expect(result).toEqual({
        ok: true,
        candidates: [
          {
            target: 'handoff',
            url: 'https://first.example.com',
            runtimeEndpointId: null,
            reason: 'external handoff to https://first.example.com',
          },
        ],
      });
    });

    it('ignores a usable runtime endpoint', () => {
      const result = routeCandidates(input({ service: handoffService(), usableRuntimeEndpoint: rte() }));
      expect(result.ok && result.candidates.map((c) => c.target)).toEqual(['handoff']);
    });

    it('without handoff url and endpoint url → no_handoff_target', () => {
      expect(routeCandidates(input({ service: handoffService({ handoff: null, endpoints: [endpoint({ url: null })] }) }))).toEqual({
        ok: false,
        reason: 'no_handoff_target',
      });
      expect(routeCandidates(input({ service: handoffService({ handoff: null, endpoints: [] }) }))).toEqual({
        ok: false,
        reason: 'no_handoff_target',
      });
    });
  });

  describe('native services', () => {
    it('tries the usable runtime endpoint first, then the provider endpoint', () => {
      expect(routeCandidates(input({ usableRuntimeEndpoint: rte() }))).toEqual({
        ok: true,
        candidates: [
          {
            target: 'runtime-endpoint',
            url: 'https://machine.local:8443',
            runtimeEndpointId: 'rte_1',
            reason: 'runtime endpoint rte_1 (agent, active)',
          },
          {
            target: 'provider',
            url: 'https://api.example.com',
            runtimeEndpointId: null,
            reason: 'provider endpoint https://api.example.com',
          },
        ],
      });
    });

    it('a degraded runtime endpoint is usable (reason names source and status)', () => {
      const result = routeCandidates(input({ usableRuntimeEndpoint: rte({ status: 'degraded', source: 'manual' }) }));
      expect(result.ok && result.candidates[0].reason).toBe('runtime endpoint rte_1 (manual, degraded)');
    });

    it('an unreachable runtime endpoint is not usable', () => {
      const result = routeCandidates(input({ usableRuntimeEndpoint: rte({ status: 'unreachable' }) }));
      expect(result.ok && result.candidates.map((c) => c.target)).toEqual(['provider']);
      expect(isUsableRuntimeEndpoint(rte({ status: 'unreachable' }))).toBe(false);
      expect(isUsableRuntimeEndpoint(null)).toBe(false);
    });

    it('prefers the endpoint of the operation over the one without operation, and appends path', () => {
      const endpoints = [
        endpoint({ operation: null, url: 'https://generic.example.com' }),
        endpoint({ operation: 'other', url: 'https://other.example.com' }),
        endpoint({ operation: 'quote', url: 'https://quote.example.com', path: '/v1/quote' }),
      ];
      const result = routeCandidates(input({ service: service({ endpoints }) }));
      expect(result.ok && result.candidates).toEqual([
        {
          target: 'provider',
          url: 'https://quote.example.com/v1/quote',
          runtimeEndpointId: null,
          reason: 'provider endpoint https://quote.example.com/v1/quote',
        },
      ]);
    });

    it('falls back to the first endpoint without operation', () => {
      const endpoints = [
        endpoint({ operation: 'other', url: 'https://other.example.com' }),
        endpoint({ url: 'https://a.example.com', path: '/x' }),
      ];
      const result = routeCandidates(input({ service: service({ endpoints }) }));
      expect(result.ok && result.candidates[0].url).toBe('https://a.example.com/x');
    });

    it('the chosen endpoint must have a url', () => {
      const endpoints = [endpoint({ operation: 'quote', url: null }), endpoint({ url: 'https://generic.example.com' })];
      expect(routeCandidates(input({ service: service({ endpoints }) }))).toEqual({ ok: false, reason: 'no_provider_endpoint' });
    });

    it('no provider endpoint and no runtime endpoint → no_provider_endpoint', () => {
      expect(routeCandidates(input({ service: service({ endpoints: [] }) }))).toEqual({ ok: false, reason: 'no_provider_endpoint' });
      expect(routeCandidates(input({ service: service({ endpoints: [endpoint({ operation: 'other' })] }) }))).toEqual({
        ok: false,
        reason: 'no_provider_endpoint',
      });
    });

    it.each([
      ['the adapter requires a runtime endpoint', { adapterRuntimeEndpointRequired: true }],
      ['the integration status is local-config-required', { service: service({ integrationStatus: 'local-config-required' }) }],
    ])('without provider candidate when %s', (_label, overrides: Partial<RouteResolutionInput>) => {
      expect(routeCandidates(input({ ...overrides, usableRuntimeEndpoint: rte() }))).toEqual({
        ok: true,
        candidates: [
          {
            target: 'runtime-endpoint',
            url: 'https://machine.local:8443',
            runtimeEndpointId: 'rte_1',
            reason: 'runtime endpoint rte_1 (agent, active)',
          },
        ],
      });
      expect(routeCandidates(input(overrides))).toEqual({ ok: false, reason: 'runtime_endpoint_required' });
      expect(routeCandidates(input({ ...overrides, usableRuntimeEndpoint: rte({ status: 'unreachable' }) }))).toEqual({
        ok: false,
        reason: 'runtime_endpoint_required',
      });
    });
  });

  describe('providerEndpoint (§8.5.2 step 2, shared by routing, the HTTP adapter and the x402 challenge)', () => {
    it('returns the entry itself: the first one of the operation, before any entry without operation', () => {
      const generic = endpoint({ url: 'https://generic.example.com' });
      const first = endpoint({ operation: 'quote', url: 'https://quote-1.example.com', method: 'get', path: '/q' });
      const second = endpoint({ operation: 'quote', url: 'https://quote-2.example.com' });
      expect(providerEndpoint([generic, endpoint({ operation: 'other' }), first, second], 'quote')).toBe(first);
    });

    it('else the first entry whose operation is null or absent', () => {
      const absent: MarketServiceEndpoint = { url: 'https://absent.example.com', protocols: [], networks: [] };
      const nullOperation = endpoint({ url: 'https://null.example.com' });
      expect(providerEndpoint([endpoint({ operation: 'other' }), absent, nullOperation], 'quote')).toBe(absent);
      expect(providerEndpoint([endpoint({ operation: 'other' }), nullOperation, absent], 'quote')).toBe(nullOperation);
    });

    it.each([
      ['null', null],
      ['absent', undefined],
      ['empty', ''],
    ])('the chosen entry with a %s url gives none, even when a later entry has one', (_label, url) => {
      expect(
        providerEndpoint([endpoint({ operation: 'quote', url }), endpoint({ url: 'https://generic.example.com' })], 'quote'),
      ).toBeUndefined();
      expect(providerEndpoint([endpoint({ url }), endpoint({ url: 'https://generic.example.com' })], 'quote')).toBeUndefined();
    });

    it('no entry of the operation and none without operation → none', () => {
      expect(providerEndpoint([], 'quote')).toBeUndefined();
      expect(providerEndpoint([endpoint({ operation: 'other' })], 'quote')).toBeUndefined();
    });
  });
});
