import { EventStoreUnavailableError, StoredEvent, WrongExpectedRevisionError } from '../../src/application/ports/event-store.port';
import { EventStoreDbEventStore, EventStoreDbOptions } from '../../src/infrastructure/event-store/eventstoredb/eventstoredb-event-store';
import { eventUuid } from '../../src/infrastructure/event-store/eventstoredb/event-uuid';
import { EmulatorOptions, EventStoreDbEmulator } from '../support/eventstoredb-emulator/emulator';
import { until } from '../support/until';
import { ev } from './event-store.contract';

/**
 * What the port contract cannot see: how the EventStoreDB adapter uses the protocol (which RPCs, ids,
 * metadata, connection strings) and how it behaves when the server drops, disappears or hangs. All
 * over real gRPC to the emulator (test/support/eventstoredb-emulator), which can be stopped, restarted
 * on the same port with its data, made to drop subscriptions, or frozen.
 */
describe('EventStoreDB adapter over the emulator: protocol and faults', () => {
  const emulators: EventStoreDbEmulator[] = [];
  const stores: EventStoreDbEventStore[] = [];

  async function emulator(options: EmulatorOptions = {}) {
    const e = await EventStoreDbEmulator.start(options);
    emulators.push(e);
    return e;
  }

  function open(connectionString: string, options: Partial<EventStoreDbOptions> = {}) {
    const store = new EventStoreDbEventStore({ connectionString, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, ...options });
    stores.push(store);
    return store;
  }

  afterEach(async () => {
    for (const e of emulators) e.thaw();
    for (const s of stores.splice(0)) await s.close();
    for (const e of emulators.splice(0)) await e.stop();
  });

  const ids = (events: StoredEvent[]) => events.map((e) => e.id);

  it('appends with BatchAppend when the server offers it, with Append when it does not; an idempotent replay without a reported position still returns the original result', async () => {
    for (const [options, method] of [
      [{ batchAppend: true }, 'Streams/BatchAppend'],
      [{ batchAppend: false, idempotentPosition: 'none' }, 'Streams/Append'],
    ] as const) {
      const server = await emulator(options);
      const store = open(server.connectionString);
      const batch = [ev('a'), ev('b')];
      const first = await store.append('s-1', batch, 'no_stream');
      const single = await store.append('s-1', [ev('c')], 1);
      const stream = await store.readStream('s-1');
      expect(first).toEqual({ nextRevision: 1, position: stream[1].position });
      expect(single).toEqual({ nextRevision: 2, position: stream[2].position });
      expect(await store.append('s-1', batch, 'no_stream')).toEqual(first);
      await expect(store.append('s-1', [ev('d')], 1)).rejects.toMatchObject({ name: 'WrongExpectedRevisionError', actual: 2 });
      expect(server.calls[method]).toBeGreaterThan(0);
      expect(Object.keys(server.calls).filter((m) => /Append$/.test(m))).toEqual([method]);
    }
  });

  it('sends deterministic UUIDs derived from the port ids and keeps the port id and $correlationId in the event metadata', async () => {
    const server = await emulator();
    const store = open(server.connectionString);
    const event = ev('a');
    await store.append('s-1', [event], 'no_stream');
    const [record] = server.log.stream('s-1')!;
    expect(record.eventId).toBe(eventUuid(event.id));
    expect(eventUuid(event.id)).toBe(eventUuid(event.id));
    expect(eventUuid(event.id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventUuid('evt_other')).not.toBe(eventUuid(event.id));
    expect(record.contentType).toBe('application/json');
    const metadata = JSON.parse(Buffer.from(record.metadata).toString('utf8'));
    expect(metadata).toMatchObject({
      eventId: event.id,
      $correlationId: event.metadata.correlationId,
      prevHash: expect.any(String),
      hash: expect.any(String),
    });
    expect((await store.readStream('s-1'))[0].metadata).not.toHaveProperty('eventId');
  });

  it('accepts kurrentdb:// and multi-host (gossip discovery) connection strings', async () => {
    const server = await emulator();
    const dead = await emulator();
    await dead.stop();
    const viaKurrent = open(`kurrentdb://127.0.0.1:${server.port}?tls=false`);
    await viaKurrent.append('s-1', [ev('a')], 'no_stream');
    const viaCluster = open(`esdb://127.0.0.1:${dead.port},127.0.0.1:${server.port}?tls=false&discoveryInterval=10`);
    expect((await viaCluster.readStream('s-1')).map((e) => e.type)).toEqual(['a']);
    expect(server.calls['Gossip/Read']).toBeGreaterThan(0);
  });

  it('subscribeAll survives a dropped subscription and a server restart: every event exactly once, in order', async () => {
    const server = await emulator({ systemEventsEveryMs: 20 });
    const store = open(server.connectionString);
    const received: StoredEvent[] = [];
    const errors: unknown[] = [];
    const sub = store.subscribeAll({ batchSize: 3, onError: (e) => errors.push(e) }, (batch) => {
      received.push(...batch);
    });
    const appendSome = async (n: number, tag: string) => {
      for (let i = 0; i < n; i++) await store.append(`s-${tag}-${i % 2}`, [ev(tag, { i })], 'any');
    };

    await appendSome(5, 'before');
    await until(() => received.length >= 5, { what: '5 events are received' });
    expect(server.dropSubscriptions()).toBe(1);
    await appendSome(5, 'after-drop');
    await until(() => received.length >= 10, { what: '10 events are received' });

    await server.stop();
    await expect(store.append('s-down', [ev('down')], 'no_stream')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await sleep(300); // the subscription keeps trying meanwhile
    await server.start();
    // Until the client's channel has reconnected, calls fail fast (as tested below); wait with a read,
    // which writes nothing, so that no append is retried.
    await eventually(() => store.headPosition());
    await appendSome(5, 'after-restart');
    await until(() => received.length >= 15, { what: '15 events are received' });
    await sleep(200);

    await sub.close();
    expect(errors).toEqual([]);
    expect(ids(received)).toEqual(ids(await store.readAll()));
    expect(received).toHaveLength(15);
    expect(received.map((e) => e.type)).not.toContain('down');
  });

  it('a server that is down at first use: calls fail fast with EventStoreUnavailableError, and the same store works once it is up', async () => {
    const server = await emulator();
    await server.stop();
    const store = open(server.connectionString);
    const started = Date.now();
    await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.readStream('s-1')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.append('s-1', [ev('a')], 'no_stream')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(3000);
    const received: StoredEvent[] = [];
    const sub = store.subscribeAll({}, (batch) => {
      received.push(...batch);
    });

    await server.start();
    const result = await eventually(() => store.append('s-1', [ev('a')], 'no_stream'));
    expect(result.nextRevision).toBe(0);
    expect(await store.headPosition()).toBe(result.position);
    await until(() => received.length === 1, { what: 'the event is received' });
    await sub.close();
  });

  it('a server that hangs: every call ends at its deadline with EventStoreUnavailableError; nothing is left half-done', async () => {
    const server = await emulator();
    const store = open(server.connectionString, { operationTimeoutMs: 300 });
    await store.append('s-1', [ev('a')], 'no_stream');
    await store.readStream('s-1');

    server.freeze();
    for (const call of [
      () => store.headPosition(),
      () => store.readAll(),
      () => store.readStream('s-2'),
      () => store.append('s-1', [ev('b')], 0),
    ]) {
      const started = Date.now();
      await expect(call()).rejects.toBeInstanceOf(EventStoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(1500);
    }
    server.thaw();
    expect((await eventually(() => store.readStream('s-1'))).map((e) => e.type).length).toBeGreaterThanOrEqual(1);
  });

  it('an append whose answer was lost is written once: retrying it with the same events returns the original result', async () => {
    const server = await emulator();
    const store = open(server.connectionString, { operationTimeoutMs: 300 });
    await store.append('s-1', [ev('a')], 'no_stream');
    await store.readStream('s-1');

    server.freeze();
    const lost = [ev('b'), ev('c')];
    await expect(store.append('s-1', lost, 0)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    server.thaw(); // the server now processes the append it had received

    const retried = await eventually(() => store.append('s-1', lost, 0));
    const stream = await store.readStream('s-1');
    expect(stream.map((e) => e.type)).toEqual(['a', 'b', 'c']);
    expect(retried).toEqual({ nextRevision: 2, position: stream[2].position });
    await expect(store.append('s-1', [ev('x')], 0)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
  });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retries `call` until it succeeds (the client reconnects after a failure), for at most `timeoutMs`. */
async function eventually<T>(call: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}
