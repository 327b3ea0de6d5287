import { EventStore } from '../../src/application/ports/event-store.port';
import { EventStoreDbEventStore } from '../../src/infrastructure/event-store/eventstoredb/eventstoredb-event-store';
import { EventStoreDbEmulator } from '../support/eventstoredb-emulator/emulator';
import { describeEventStoreContract, EventStoreHarness } from './event-store.contract';

/**
 * The port contract against the EventStoreDB adapter, over real gRPC to the EventStoreDB emulator in
 * test/support/eventstoredb-emulator (a test double speaking EventStoreDB's protocol; no server is
 * installed here). A fresh emulator per store gives every test an empty `$all` (apart from the system
 * events a fresh server has); `reopen` is a new client (a restarted orchestrator) on the same emulator.
 * The emulator writes a system event every 50 ms, so filtering of `$…` events is exercised throughout.
 */
function emulatorHarness(options: { batchAppend: boolean }): EventStoreHarness {
  const running: EventStoreDbEmulator[] = [];
  const emulatorOf = new WeakMap<EventStore, EventStoreDbEmulator>();
  const open = (emulator: EventStoreDbEmulator) => {
    const store = new EventStoreDbEventStore({
      connectionString: emulator.connectionString,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    });
    emulatorOf.set(store, emulator);
    return store;
  };
  const stopAll = async () => {
    for (const emulator of running.splice(0)) await emulator.stop();
  };
  return {
    contiguousPositions: false,
    // Every call crosses gRPC: the 50-writer race does hundreds of round trips on a 2-core CI machine.
    testTimeoutMs: 30_000,
    async create() {
      // The previous test's store is closed by now (afterEach); its emulator is no longer needed.
      await stopAll();
      const emulator = await EventStoreDbEmulator.start({ batchAppend: options.batchAppend, systemEventsEveryMs: 50 });
      running.push(emulator);
      return open(emulator);
    },
    async reopen(store) {
      const emulator = emulatorOf.get(store);
      if (!emulator) throw new Error('reopen: unknown store');
      await store.close();
      return open(emulator);
    },
    cleanup: stopAll,
  };
}

describeEventStoreContract('eventstoredb (emulator, BatchAppend)', emulatorHarness({ batchAppend: true }));
