import { dataFilesText } from '../support/machine-api';
import { newAgent, Paired, PairingApi } from '../support/pairing-api';
import { DOCS_ONLY, GLOBAL, Json, NATIVE, ranking, READY, SearchApi, serviceIds, useSearchApp } from '../support/search-api';
import { TestApp } from '../support/test-app';

/** Searches against the shipped catalogue (catalog/catalog.json, documented in catalog/README.md). */

describe('POST /api/v1/market/search on the shipped catalogue (§6.4)', () => {
  let t: TestApp;
  let pairings: PairingApi;
  let api: SearchApi;
  let agent: Paired;
  useSearchApp({}, (app) => {
    ({ t, pairings, search: api } = app);
  });
  beforeAll(async () => {
    const { machine } = await pairings.activeMachine();
    agent = await pairings.pair(machine, newAgent());
  });

  const NOT_SUPPLIED = 'provider credentials required but not supplied (+0)';
  const HANDOFF_EXCLUDED = 'external handoff excluded by preferences';

  it('price feeds for get-price within a USDC budget: ties at 60 broken by price (0 before 0.001 USDC)', async () => {
    const item = await api.as(agent, {
      serviceType: 'oracle.price-feed',
      operation: 'get-price',
      budget: { amount: 0.01, currency: 'usdc' },
    });
    const op = "operation 'get-price' supported (+20)";
    expect(ranking(item)).toEqual([
      ['pyth.hermes.price-feed', 60, [op, NATIVE, READY, 'price 0 within budget (+10)']],
      ['pay-sh.coingecko.simple-price', 60, [op, NATIVE, READY, 'price 0.001 USDC within budget (+10)']],
      ['redstone.pull.price-feed', 38, [op, NATIVE, NOT_SUPPLIED, 'price set by provider (+3)']],
    ]);
    expect(item.excluded).toEqual([]);
    expect(item.quotes[0].payment).toEqual(expect.objectContaining({ defaultRail: 'not-required', amount: '0' }));
    expect(item.quotes[1].payment).toEqual(expect.objectContaining({ defaultRail: 'x402', amount: '0.001', currency: 'USDC' }));
  });

  it('storage by skillKey and operation in us-east with a preferred provider; credentials move filebase to the top', async () => {
    const body = {
      skillKey: 'storage.object',
      operation: 'put-object',
      region: 'us-east',
      preferences: { preferredProviderKeys: ['FILEBASE'] },
    };
    const op = "operation 'put-object' supported (+20)";
    const filebase = [op, "region 'us-east' matches (+15)", NATIVE];
    const item = await api.as(agent, body);
    expect(ranking(item)).toEqual([
      ['agentic-market.pinata.ipfs-upload', 60, [op, GLOBAL, NATIVE, READY]],
      ['filebase.ipfs.s3', 60, [...filebase, NOT_SUPPLIED, "preferred provider 'filebase' (+10)"]],
      ['walrus.blob.store', 50, [op, GLOBAL, NATIVE, 'adapter setup required (+5)']],
    ]);
    expect(item.excluded).toEqual([{ serviceId: 'ar-io.arweave.permanent-upload', reasons: [DOCS_ONLY] }]);

    const secret = 'filebase-secret-key-9f8e7d6c5b4a';
    const credentialed = await api.as(agent, {
      ...body,
      providerCredentials: { filebase: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: secret, bucket: 'robots' } },
    });
    expect(ranking(credentialed)[0]).toEqual([
      'filebase.ipfs.s3',
      70,
      [...filebase, 'provider credentials supplied (+10)', "preferred provider 'filebase' (+10)"],
    ]);
    expect(serviceIds(credentialed).slice(1)).toEqual(['agentic-market.pinata.ipfs-upload', 'walrus.blob.store']);
    expect(dataFilesText(t)).not.toContain(secret);
  });

  it('machine commerce: a budget maxAmount excludes the 0.25 USDT charging session; region scores the rest', async () => {
    const capped = await api.as(agent, { serviceType: 'machine.commerce', budget: { maxAmount: 0.2 } });
    expect(ranking(capped)).toEqual([['kaching.vending.purchase', 18, [NATIVE, NOT_SUPPLIED, 'price set by provider (+3)']]]);
    expect(capped.quotes[0].operation).toBe('get-offer');
    expect(capped.excluded).toEqual([{ serviceId: 'evz.charging.session', reasons: ['price 0.25 USDT exceeds budget maxAmount 0.2'] }]);

    const regional = await api.as(agent, { skillKey: 'machine.commerce', region: 'EU-CENTRAL' });
    expect(ranking(regional)).toEqual([
      ['kaching.vending.purchase', 30, ["region 'eu-central' matches (+15)", NATIVE, NOT_SUPPLIED]],
      ['evz.charging.session', 15, ["region 'ap-south' does not match 'eu-central' (+0)", NATIVE, 'partner approval required (+0)']],
    ]);
  });

  const NATIVE_ONLY_ORDER = [
    'pyth.hermes.price-feed',
    'pay-sh.coingecko.simple-price',
    'pay-sh.anthropic.claude-haiku',
    'agentic-market.pinata.ipfs-upload',
    'pay-sh.google.gemini-flash',
    'walrus.blob.store',
    'ollama.llama3.local',
    'qvac.llm.local',
    'qvac.whisper.local',
    'ros2.bridge.local',
    'geodnet.rtk.corrections',
    'humanity-protocol.palm.verify',
    'evz.charging.session',
    'filebase.ipfs.s3',
    'kaching.vending.purchase',
    'mapbox.geocoding.reverse',
    'redstone.pull.price-feed',
    'rovr.survey.commission',
  ];
  const NATIVE_ONLY_EXCLUDED = [
    { serviceId: 'ar-io.arweave.permanent-upload', reasons: [DOCS_ONLY] },
    { serviceId: 'formant.teleop.console', reasons: [HANDOFF_EXCLUDED] },
    { serviceId: 'helium.iot.console', reasons: [HANDOFF_EXCLUDED] },
    { serviceId: 'io-net.gpu-cluster.console', reasons: [HANDOFF_EXCLUDED] },
    { serviceId: 'open-rmf.fleet-adapter', reasons: [DOCS_ONLY] },
    { serviceId: 'wicrypt.hotspot.console', reasons: [HANDOFF_EXCLUDED] },
    { serviceId: 'world-id.orb.verify', reasons: [DOCS_ONLY, HANDOFF_EXCLUDED] },
  ];

  it('the whole catalogue, native only: every service quoted or excluded once, quotes consistent with the catalogue', async () => {
    const item = await api.as(agent, { preferences: { nativeOnly: true }, maxResults: 50 });
    expect(serviceIds(item)).toEqual(NATIVE_ONLY_ORDER);
    expect(item.quotes.map((q: Json) => q.score)).toEqual([30, 30, 30, 30, 30, 20, ...Array(12).fill(15)]);
    expect(item.excluded).toEqual(NATIVE_ONLY_EXCLUDED);
    const all = await t.inject({ method: 'GET', url: '/api/v1/market/services?limit=500' });
    expect([...serviceIds(item), ...item.excluded.map((e: Json) => e.serviceId)].sort()).toEqual(
      all.body.items.map((s: Json) => s.id).sort(),
    );

    for (const quote of item.quotes) {
      const service = (await t.inject({ method: 'GET', url: `/api/v1/market/services/${quote.serviceId}` })).body.item;
      const known = service.pricing.mode === 'fixed' && service.pricing.amount !== null;
      const currency = service.pricing.currency ?? service.payment.currency;
      expect(quote).toEqual(
        expect.objectContaining({
          skillKey: service.skillKey,
          providerKey: service.providerKey,
          executionMode: service.executionMode,
          integrationStatus: service.integrationStatus,
          serviceType: service.serviceType,
          region: service.region,
          handoff: service.handoff,
          operation: service.operations[0],
          pricing: service.pricing,
          payment: known
            ? { ...service.payment, amount: String(service.pricing.amount), ...(currency === undefined ? {} : { currency }) }
            : service.payment,
        }),
      );
    }

    const byDefault = await api.as(agent, { preferences: { nativeOnly: true } });
    expect(serviceIds(byDefault)).toEqual(NATIVE_ONLY_ORDER.slice(0, 10));
    expect(byDefault.excluded).toEqual(NATIVE_ONLY_EXCLUDED);
  });
});
