/**
 * EventStoreDB emulator: a TEST DOUBLE, not a database (see README.md next to this file).
 *
 * A gRPC server on 127.0.0.1 built with @grpc/grpc-js from the service definitions that ship inside
 * @eventstore/db-client (generated/*_grpc_pb.js), so the real client talks to it over real HTTP/2 +
 * protobuf exactly as it talks to EventStoreDB. It implements the calls that client makes for our
 * adapter, with EventStoreDB's documented semantics (event-log.ts has the storage model):
 *
 * - ServerFeatures.GetSupportedMethods (the client probes it to choose BatchAppend over Append)
 * - Streams.BatchAppend and Streams.Append (expected revision, idempotency, max append size, deadline)
 * - Streams.Read: stream reads and `$all` reads, forwards/backwards, from start/end/revision/position,
 *   with count; catch-up subscriptions to a stream or to `$all` (confirmation, catch-up, caught-up,
 *   live), with stream-name/event-type filters (regex or prefixes) and checkpoints
 * - Gossip.Read (one live leader: itself), so multi-host connection strings work
 *
 * Everything else (Delete, Tombstone, persistent subscriptions, projections, users, operations)
 * answers UNIMPLEMENTED. Data lives in memory and survives stop()/start() of the same instance.
 */
import * as grpc from '@grpc/grpc-js';
import { GossipService } from '@eventstore/db-client/generated/gossip_grpc_pb';
import { ClusterInfo, EndPoint, MemberInfo } from '@eventstore/db-client/generated/gossip_pb';
import { ServerFeaturesService } from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import { SupportedMethod, SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';
import * as shared from '@eventstore/db-client/generated/shared_pb';
import { Code } from '@eventstore/db-client/generated/code_pb';
import { Status } from '@eventstore/db-client/generated/status_pb';
import { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb';
import { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';
import { Any } from 'google-protobuf/google/protobuf/any_pb';
import { Empty as ProtoEmpty } from 'google-protobuf/google/protobuf/empty_pb';
import { randomUUID } from 'node:crypto';
import { AppendOutcome, EventLog, EXPECTED_ANY, EXPECTED_NO_STREAM, EXPECTED_STREAM_EXISTS, LogRecord, ProposedEvent } from './event-log';

export type EmulatorOptions = {
  /** 0 (default): a free port. */
  port?: number;
  /** Advertise Streams.BatchAppend in ServerFeatures (what EventStoreDB 21.10+ does). Default true. */
  batchAppend?: boolean;
  /** What an idempotent append reports: the last event's position (23.x+) or none (older servers). */
  idempotentPosition?: 'last-event' | 'none';
  /** Writes a `$statsCollected` system event this often, like a server's stats collector. Default off. */
  systemEventsEveryMs?: number;
  /** EventStoreDB's default max append size (1 MiB). */
  maxAppendSizeBytes?: number;
};

type Filter = { test(record: LogRecord): boolean; checkpointEvery: number };

/** Calls per RPC method name, e.g. `Streams/BatchAppend`. */
export type CallCounts = Record<string, number>;

const SERVER_VERSION = '24.10.0';
/** EventStoreDB's ReadBatchSize: the default filter search window. */
const READ_BATCH_SIZE = 32;

export class EventStoreDbEmulator {
  readonly log: EventLog;
  readonly calls: CallCounts = {};
  private server: grpc.Server | null = null;
  private boundPort: number;
  private readonly subscriptions = new Set<grpc.ServerWritableStream<ReadReq, ReadResp>>();
  private readonly stoppers = new Set<() => void>();
  private frozen: { promise: Promise<void>; release: () => void } | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly options: Required<Omit<EmulatorOptions, 'port' | 'systemEventsEveryMs'>> & { systemEventsEveryMs: number | null };

  private constructor(options: EmulatorOptions) {
    this.boundPort = options.port ?? 0;
    this.options = {
      batchAppend: options.batchAppend ?? true,
      idempotentPosition: options.idempotentPosition ?? 'last-event',
      maxAppendSizeBytes: options.maxAppendSizeBytes ?? 1024 * 1024,
      systemEventsEveryMs: options.systemEventsEveryMs ?? null,
    };
    this.log = new EventLog();
  }

  /** Starts an emulator on 127.0.0.1 (a free port unless one is given). */
  static async start(options: EmulatorOptions = {}): Promise<EventStoreDbEmulator> {
    const emulator = new EventStoreDbEmulator(options);
    await emulator.start();
    return emulator;
  }

  get port(): number {
    return this.boundPort;
  }

  get running(): boolean {
    return this.server !== null;
  }

  /** What the orchestrator puts into PEAQOS_EVENTSTORE_CONNECTION_STRING to reach this emulator. */
  get connectionString(): string {
    return `esdb://127.0.0.1:${this.boundPort}?tls=false`;
  }

  /** (Re)starts serving on the same port with the same data (after stop()). */
  async start(): Promise<void> {
    if (this.server) return;
    const server = new grpc.Server();
    server.addService(StreamsService, {
      read: (call: grpc.ServerWritableStream<ReadReq, ReadResp>) => this.guard(call, 'Streams/Read', () => this.read(call)),
      append: (call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>) => {
        this.count('Streams/Append');
        this.append(call, callback);
      },
      batchAppend: (call: grpc.ServerDuplexStream<BatchAppendReq, BatchAppendResp>) => {
        this.count('Streams/BatchAppend');
        this.batchAppend(call);
      },
    });
    server.addService(ServerFeaturesService, {
      getSupportedMethods: (
        _call: grpc.ServerUnaryCall<shared.Empty, SupportedMethods>,
        callback: grpc.sendUnaryData<SupportedMethods>,
      ) => {
        this.count('ServerFeatures/GetSupportedMethods');
        void this.whenThawed().then(() => callback(null, this.supportedMethods()));
      },
    });
    server.addService(GossipService, {
      read: (_call: grpc.ServerUnaryCall<shared.Empty, ClusterInfo>, callback: grpc.sendUnaryData<ClusterInfo>) => {
        this.count('Gossip/Read');
        void this.whenThawed().then(() => callback(null, this.clusterInfo()));
      },
    });
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.boundPort}`, grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    this.server = server;
    if (this.options.systemEventsEveryMs) {
      const hostPort = `127.0.0.1:${this.boundPort}`;
      this.statsTimer = setInterval(
        () =>
          this.log.appendSystemEvent(`$stats-${hostPort}`, '$statsCollected', {
            'proc-mem': process.memoryUsage().rss,
            timestamp: new Date().toISOString(),
          }),
        this.options.systemEventsEveryMs,
      );
      this.statsTimer.unref();
    }
  }

  /**
   * Stops like a crashed or killed server: every connection is dropped at once (calls in flight fail,
   * subscriptions break). The data stays; start() serves it again on the same port.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    for (const stop of [...this.stoppers]) stop();
    this.subscriptions.clear();
    server.forceShutdown();
  }

  /** Ends every open subscription with UNAVAILABLE while the server keeps running (a dropped subscription). */
  dropSubscriptions(): number {
    const calls = [...this.subscriptions];
    for (const call of calls)
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'Subscription dropped (emulator fault injection)' });
    return calls.length;
  }

  /** Accepts calls but answers none of them until thaw(): a server that hangs. */
  freeze(): void {
    if (this.frozen) return;
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.frozen = { promise, release };
  }

  thaw(): void {
    this.frozen?.release();
    this.frozen = null;
  }

  private whenThawed(): Promise<void> {
    return this.frozen ? this.frozen.promise : Promise.resolve();
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  private guard(call: grpc.ServerWritableStream<ReadReq, ReadResp>, method: string, run: () => Promise<void>): void {
    this.count(method);
    run().catch((error: unknown) => {
      if (!call.cancelled && call.writable) call.emit('error', toServiceError(error));
    });
  }

  // -------------------------------------------------------------------------------------------------
  // ServerFeatures, Gossip

  private supportedMethods(): SupportedMethods {
    const methods: Array<[string, string, string[]]> = [
      ['event_store.client.streams.streams', 'read', ['position', 'events']],
      ['event_store.client.streams.streams', 'append', []],
      ['event_store.client.gossip.gossip', 'read', []],
      ['event_store.client.server_features.serverfeatures', 'getsupportedmethods', []],
    ];
    if (this.options.batchAppend) methods.push(['event_store.client.streams.streams', 'batchappend', []]);
    const result = new SupportedMethods();
    result.setEventStoreServerVersion(SERVER_VERSION);
    result.setMethodsList(
      methods.map(([service, method, features]) => {
        const m = new SupportedMethod();
        m.setServiceName(service);
        m.setMethodName(method);
        m.setFeaturesList(features);
        return m;
      }),
    );
    return result;
  }

  private clusterInfo(): ClusterInfo {
    const endpoint = new EndPoint();
    endpoint.setAddress('127.0.0.1');
    endpoint.setPort(this.boundPort);
    const member = new MemberInfo();
    member.setInstanceId(uuidDto('00000000-0000-4000-8000-000000000001', false));
    member.setTimeStamp(String(BigInt(Date.now()) * 10_000n));
    member.setState(MemberInfo.VNodeState.LEADER);
    member.setIsAlive(true);
    member.setHttpEndPoint(endpoint);
    const info = new ClusterInfo();
    info.setMembersList([member]);
    return info;
  }

  // -------------------------------------------------------------------------------------------------
  // Streams.Append (client streaming: options, then one message per event)

  private append(call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>): void {
    let options: AppendReq.Options | undefined;
    const events: ProposedEvent[] = [];
    let failure: grpc.ServiceError | null = null;
    call.on('data', (request: AppendReq) => {
      if (failure) return;
      if (request.hasOptions()) options = request.getOptions();
      else if (request.hasProposedMessage()) {
        const message = request.getProposedMessage()!;
        try {
          events.push(proposedEvent(message.getId(), message.getMetadataMap(), message.getData_asU8(), message.getCustomMetadata_asU8()));
        } catch (error) {
          failure = toServiceError(error);
        }
      }
    });
    call.on('error', () => undefined);
    call.on('end', () => {
      void this.whenThawed().then(() => {
        if (failure) return callback(failure);
        if (!options) return callback(serviceError(grpc.status.INVALID_ARGUMENT, 'The first AppendReq must carry options'));
        const sizeError = this.checkSize(events);
        if (sizeError) return callback(sizeError);
        const streamId = streamName(options.getStreamIdentifier());
        const expected = expectedFromAppendOptions(options);
        const outcome = this.log.append(streamId, expected, events);
        const response = new AppendResp();
        if (outcome.kind === 'wrong_expected_version') {
          const wrong = new AppendResp.WrongExpectedVersion();
          if (outcome.currentRevision < 0) wrong.setCurrentNoStream(new shared.Empty());
          else wrong.setCurrentRevision(String(outcome.currentRevision));
          if (expected === EXPECTED_ANY) wrong.setExpectedAny(new shared.Empty());
          else if (expected === EXPECTED_STREAM_EXISTS) wrong.setExpectedStreamExists(new shared.Empty());
          else if (expected === EXPECTED_NO_STREAM) wrong.setExpectedNoStream(new shared.Empty());
          else wrong.setExpectedRevision(String(expected));
          response.setWrongExpectedVersion(wrong);
          return callback(null, response);
        }
        const success = new AppendResp.Success();
        success.setCurrentRevision(String(outcome.lastRevision));
        const position = this.reportedPosition(outcome);
        if (position === null) success.setNoPosition(new shared.Empty());
        else {
          const p = new AppendResp.Position();
          p.setCommitPosition(String(position));
          p.setPreparePosition(String(position));
          success.setPosition(p);
        }
        response.setSuccess(success);
        callback(null, response);
      });
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Streams.BatchAppend (bidirectional: requests correlated by id, is_final closes one append)

  private batchAppend(call: grpc.ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void {
    type Pending = { streamId: string; expected: number; deadline: number | null; events: ProposedEvent[]; failed: boolean };
    const pending = new Map<string, Pending>();
    let inFlight = 0;
    let requestsEnded = false;
    const maybeEnd = () => {
      if (requestsEnded && inFlight === 0 && call.writable) call.end();
    };
    const respond = (request: BatchAppendReq, streamId: string, fill: (response: BatchAppendResp) => void) => {
      const response = new BatchAppendResp();
      response.setCorrelationId(request.getCorrelationId());
      const identifier = new shared.StreamIdentifier();
      identifier.setStreamName(Buffer.from(streamId, 'utf8'));
      response.setStreamIdentifier(identifier);
      fill(response);
      if (call.writable && !call.cancelled) call.write(response);
    };
    call.on('error', () => undefined);
    call.on('data', (request: BatchAppendReq) => {
      const correlationId = uuidString(request.getCorrelationId());
      if (request.hasOptions()) {
        const options = request.getOptions()!;
        pending.set(correlationId, {
          streamId: streamName(options.getStreamIdentifier()),
          expected: expectedFromBatchOptions(options),
          deadline: options.hasDeadline() ? options.getDeadline()!.toDate().getTime() : null,
          events: [],
          failed: false,
        });
      }
      const write = pending.get(correlationId);
      if (!write) return;
      try {
        for (const m of request.getProposedMessagesList()) {
          write.events.push(proposedEvent(m.getId(), m.getMetadataMap(), m.getData_asU8(), m.getCustomMetadata_asU8()));
        }
      } catch (error) {
        write.failed = true;
        pending.delete(correlationId);
        const e = toServiceError(error);
        respond(request, write.streamId, (r) => r.setError(status(grpc.status.INVALID_ARGUMENT, e.details ?? 'bad request')));
        return;
      }
      if (!request.getIsFinal()) return;
      pending.delete(correlationId);
      inFlight += 1;
      void this.whenThawed().then(() => {
        inFlight -= 1;
        if (write.deadline !== null && write.deadline <= Date.now()) {
          respond(request, write.streamId, (r) =>
            r.setError(status(grpc.status.DEADLINE_EXCEEDED, 'Timeout', 'event_store.client.Timeout', new shared.Timeout())),
          );
        } else if (this.checkSize(write.events)) {
          const max = new shared.MaximumAppendSizeExceeded();
          max.setMaxappendsize(this.options.maxAppendSizeBytes);
          respond(request, write.streamId, (r) =>
            r.setError(
              status(grpc.status.INVALID_ARGUMENT, 'Maximum Append Size Exceeded', 'event_store.client.MaximumAppendSizeExceeded', max),
            ),
          );
        } else {
          const outcome = this.log.append(write.streamId, write.expected, write.events);
          respond(request, write.streamId, (r) => this.fillBatchOutcome(r, outcome, write.expected));
        }
        maybeEnd();
      });
    });
    call.on('end', () => {
      requestsEnded = true;
      maybeEnd();
    });
  }

  private fillBatchOutcome(response: BatchAppendResp, outcome: AppendOutcome, expected: number): void {
    if (outcome.kind === 'wrong_expected_version') {
      const wrong = new shared.WrongExpectedVersion();
      if (outcome.currentRevision < 0) wrong.setCurrentNoStream(new ProtoEmpty());
      else wrong.setCurrentStreamRevision(String(outcome.currentRevision));
      if (expected === EXPECTED_ANY) wrong.setExpectedAny(new ProtoEmpty());
      else if (expected === EXPECTED_STREAM_EXISTS) wrong.setExpectedStreamExists(new ProtoEmpty());
      else if (expected === EXPECTED_NO_STREAM) wrong.setExpectedNoStream(new ProtoEmpty());
      else wrong.setExpectedStreamPosition(String(expected));
      response.setError(status(grpc.status.FAILED_PRECONDITION, 'WrongExpectedVersion', 'event_store.client.WrongExpectedVersion', wrong));
      return;
    }
    const success = new BatchAppendResp.Success();
    success.setCurrentRevision(String(outcome.lastRevision));
    const position = this.reportedPosition(outcome);
    if (position === null) success.setNoPosition(new ProtoEmpty());
    else {
      const p = new shared.AllStreamPosition();
      p.setCommitPosition(String(position));
      p.setPreparePosition(String(position));
      success.setPosition(p);
    }
    response.setSuccess(success);
  }

  /** The position an append reports: the last event's; for an idempotent replay per the option. */
  private reportedPosition(outcome: Exclude<AppendOutcome, { kind: 'wrong_expected_version' }>): bigint | null {
    if (outcome.kind === 'idempotent' && this.options.idempotentPosition === 'none') return null;
    return outcome.position;
  }

  /** EventStoreDB sums Event.SizeOnDisk (type + data + metadata) against MaxAppendSize. */
  private checkSize(events: ProposedEvent[]): grpc.ServiceError | null {
    const size = events.reduce((sum, e) => sum + Buffer.byteLength(e.type) + e.data.length + e.metadata.length, 0);
    if (size <= this.options.maxAppendSizeBytes) return null;
    const metadata = new grpc.Metadata();
    metadata.set('exception', 'maximum-append-size-exceeded');
    metadata.set('maximum-append-size', String(this.options.maxAppendSizeBytes));
    return serviceError(grpc.status.INVALID_ARGUMENT, `Maximum Append Size of ${this.options.maxAppendSizeBytes} Exceeded.`, metadata);
  }

  // -------------------------------------------------------------------------------------------------
  // Streams.Read (reads and catch-up subscriptions)

  private async read(call: grpc.ServerWritableStream<ReadReq, ReadResp>): Promise<void> {
    await this.whenThawed();
    const options = call.request.getOptions();
    if (!options) throw serviceError(grpc.status.INVALID_ARGUMENT, 'ReadReq without options');
    const structured = options.getUuidOption()?.hasStructured() ?? false;
    const filter = options.hasFilter() ? toFilter(options.getFilter()!) : null;
    const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;

    if (options.hasSubscription()) return this.subscribe(call, options, structured, filter);

    const count = options.hasCount() ? clampCount(options.getCount()) : Number.MAX_SAFE_INTEGER;
    if (options.hasStream()) {
      const streamOptions = options.getStream()!;
      const streamId = streamName(streamOptions.getStreamIdentifier());
      const stream = this.log.stream(streamId);
      if (!stream || stream.length === 0) {
        const notFound = new ReadResp.StreamNotFound();
        notFound.setStreamIdentifier(streamOptions.getStreamIdentifier());
        const response = new ReadResp();
        response.setStreamNotFound(notFound);
        await write(call, response);
        call.end();
        return;
      }
      const selected: LogRecord[] = [];
      if (backwards) {
        const from = streamOptions.hasRevision()
          ? Math.min(Number(streamOptions.getRevision()), stream.length - 1)
          : streamOptions.hasStart()
            ? 0
            : stream.length - 1;
        for (let r = from; r >= 0 && selected.length < count; r--) selected.push(stream[r]);
      } else {
        const from = streamOptions.hasRevision() ? Number(streamOptions.getRevision()) : streamOptions.hasEnd() ? stream.length : 0;
        for (let r = from; r < stream.length && selected.length < count; r++) selected.push(stream[r]);
      }
      for (const record of selected) {
        if (filter && !filter.test(record)) continue;
        await write(call, readEvent(record, structured, false));
      }
      call.end();
      return;
    }

    const all = options.getAll()!;
    const records = this.log.records;
    const position = all.hasPosition() ? BigInt(all.getPosition()!.getCommitPosition()) : null;
    let sent = 0;
    if (backwards) {
      // Backwards from a position: the records before it.
      let i = position === null ? records.length - 1 : this.log.indexAtOrAfter(position) - 1;
      if (all.hasStart()) i = -1;
      for (; i >= 0 && sent < count; i--) {
        if (filter && !filter.test(records[i])) continue;
        await write(call, readEvent(records[i], structured, true));
        sent += 1;
      }
    } else {
      // Forwards from a position: inclusive.
      let i = position === null ? (all.hasEnd() ? records.length : 0) : this.log.indexAtOrAfter(position);
      for (; i < records.length && sent < count; i++) {
        if (filter && !filter.test(records[i])) continue;
        await write(call, readEvent(records[i], structured, true));
        sent += 1;
      }
    }
    call.end();
  }

  /** Catch-up subscription: confirmation, historical events, caught-up, then live events until cancelled. */
  private async subscribe(
    call: grpc.ServerWritableStream<ReadReq, ReadResp>,
    options: ReadReq.Options,
    structured: boolean,
    filter: Filter | null,
  ) {
    let stopped = false;
    let wake: (() => void) | null = null;
    const stop = () => {
      stopped = true;
      wake?.();
    };
    this.stoppers.add(stop);
    this.subscriptions.add(call);
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('finish', stop);
    call.on('error', stop);
    const unsubscribe = this.log.onAppend(() => wake?.());
    try {
      const confirmation = new ReadResp.SubscriptionConfirmation();
      confirmation.setSubscriptionId(randomUUID());
      const confirm = new ReadResp();
      confirm.setConfirmation(confirmation);
      await write(call, confirm);

      const isAll = options.hasAll();
      let next: () => LogRecord | undefined;
      if (isAll) {
        const all = options.getAll()!;
        // From a position: the events after it (a subscription's start is exclusive).
        let i = all.hasEnd()
          ? this.log.records.length
          : all.hasPosition()
            ? this.log.indexAtOrAfter(BigInt(all.getPosition()!.getCommitPosition()) + 1n)
            : 0;
        next = () => this.log.records[i] && this.log.records[i++];
      } else {
        const streamOptions = options.getStream()!;
        const streamId = streamName(streamOptions.getStreamIdentifier());
        let r = streamOptions.hasEnd()
          ? this.log.lastRevision(streamId) + 1
          : streamOptions.hasRevision()
            ? Number(streamOptions.getRevision()) + 1
            : 0;
        next = () => {
          const record = this.log.stream(streamId)?.[r];
          if (record) r += 1;
          return record;
        };
      }

      let caughtUp = false;
      let considered = 0;
      while (!stopped) {
        const record = next();
        if (!record) {
          if (!caughtUp) {
            caughtUp = true;
            const message = new ReadResp();
            message.setCaughtUp(new ReadResp.CaughtUp());
            await write(call, message);
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
          continue;
        }
        considered += 1;
        if (!filter || filter.test(record)) await write(call, readEvent(record, structured, isAll));
        if (filter && considered % filter.checkpointEvery === 0) {
          const checkpoint = new ReadResp.Checkpoint();
          checkpoint.setCommitPosition(String(record.position));
          checkpoint.setPreparePosition(String(record.position));
          const message = new ReadResp();
          message.setCheckpoint(checkpoint);
          await write(call, message);
        }
      }
    } finally {
      unsubscribe();
      this.stoppers.delete(stop);
      this.subscriptions.delete(call);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/** Writes with backpressure: waits for 'drain' (or the end of the call) when the buffer is full. */
function write<T>(call: grpc.ServerWritableStream<ReadReq, T>, message: T): Promise<void> {
  if (call.cancelled || !call.writable) return Promise.resolve();
  if (call.write(message)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}

/**
 * Records never change, so each response message is built and serialised once per variant (a test
 * double can afford the memory; it keeps the emulator's CPU share small next to the client's).
 */
const encodedEvents = new WeakMap<LogRecord, Map<string, ReadResp>>();

function readEvent(record: LogRecord, structured: boolean, withPosition: boolean): ReadResp {
  const key = `${structured ? 's' : 't'}${withPosition ? 'p' : 'n'}`;
  let variants = encodedEvents.get(record);
  if (!variants) encodedEvents.set(record, (variants = new Map()));
  let message = variants.get(key);
  if (!message) {
    message = buildReadEvent(record, structured, withPosition);
    const bytes = message.serializeBinary();
    message.serializeBinary = () => bytes;
    variants.set(key, message);
  }
  return message;
}

function buildReadEvent(record: LogRecord, structured: boolean, withPosition: boolean): ReadResp {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(uuidDto(record.eventId, structured));
  const identifier = new shared.StreamIdentifier();
  identifier.setStreamName(Buffer.from(record.streamId, 'utf8'));
  recorded.setStreamIdentifier(identifier);
  recorded.setStreamRevision(String(record.revision));
  // Stream reads carry the $all position too (EventStoreDB 22.10+).
  recorded.setCommitPosition(String(record.position));
  recorded.setPreparePosition(String(record.position));
  const metadata = recorded.getMetadataMap();
  metadata.set('type', record.type);
  metadata.set('content-type', record.contentType);
  metadata.set('created', String(record.created));
  recorded.setData(record.data);
  recorded.setCustomMetadata(record.metadata);
  const event = new ReadResp.ReadEvent();
  event.setEvent(recorded);
  if (withPosition) event.setCommitPosition(String(record.position));
  else event.setNoPosition(new shared.Empty());
  const response = new ReadResp();
  response.setEvent(event);
  return response;
}

function proposedEvent(
  id: shared.UUID | undefined,
  metadata: { get(key: string): string | undefined },
  data: Uint8Array,
  custom: Uint8Array,
): ProposedEvent {
  const type = metadata.get('type');
  const contentType = metadata.get('content-type');
  for (const [name, value] of [
    ['type', type],
    ['content-type', contentType],
  ] as const) {
    if (value === undefined) {
      const trailers = new grpc.Metadata();
      trailers.set('exception', 'missing-required-metadata-property');
      trailers.set('required-metadata-properties', name);
      throw serviceError(grpc.status.INVALID_ARGUMENT, `Required metadata property ${name} is missing`, trailers);
    }
  }
  return {
    eventId: uuidString(id),
    type: type!,
    contentType: contentType!,
    data: Uint8Array.from(data),
    metadata: Uint8Array.from(custom),
  };
}

function expectedFromAppendOptions(options: AppendReq.Options): number {
  const Case = AppendReq.Options.ExpectedStreamRevisionCase;
  switch (options.getExpectedStreamRevisionCase()) {
    case Case.REVISION:
      return Number(options.getRevision());
    case Case.NO_STREAM:
      return EXPECTED_NO_STREAM;
    case Case.STREAM_EXISTS:
      return EXPECTED_STREAM_EXISTS;
    default:
      return EXPECTED_ANY;
  }
}

function expectedFromBatchOptions(options: BatchAppendReq.Options): number {
  const Case = BatchAppendReq.Options.ExpectedStreamPositionCase;
  switch (options.getExpectedStreamPositionCase()) {
    case Case.STREAM_POSITION:
      return Number(options.getStreamPosition());
    case Case.NO_STREAM:
      return EXPECTED_NO_STREAM;
    case Case.STREAM_EXISTS:
      return EXPECTED_STREAM_EXISTS;
    default:
      return EXPECTED_ANY;
  }
}

function toFilter(options: ReadReq.Options.FilterOptions): Filter {
  const onStream = options.hasStreamIdentifier();
  const expression = onStream ? options.getStreamIdentifier()! : options.getEventType()!;
  const regex = expression.getRegex();
  const prefixes = expression.getPrefixList();
  const matches = regex ? (value: string) => new RegExp(regex).test(value) : (value: string) => prefixes.some((p) => value.startsWith(p));
  const window = options.hasMax() ? options.getMax() : READ_BATCH_SIZE;
  const multiplier = Math.max(1, options.getCheckpointintervalmultiplier() || 1);
  return { test: (record) => matches(onStream ? record.streamId : record.type), checkpointEvery: window * multiplier };
}

function streamName(identifier: shared.StreamIdentifier | undefined): string {
  if (!identifier) throw serviceError(grpc.status.INVALID_ARGUMENT, 'Missing stream identifier');
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

function clampCount(count: string): number {
  const n = BigInt(count);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** A UUID message as text (string form, or the structured pair of 64-bit halves). */
function uuidString(uuid: shared.UUID | undefined): string {
  if (!uuid) throw serviceError(grpc.status.INVALID_ARGUMENT, 'Missing UUID');
  if (uuid.hasStructured()) {
    const s = uuid.getStructured()!;
    const hex =
      BigInt.asUintN(64, BigInt(s.getMostSignificantBits())).toString(16).padStart(16, '0') +
      BigInt.asUintN(64, BigInt(s.getLeastSignificantBits())).toString(16).padStart(16, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  const text = uuid.getString().toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text)) {
    throw serviceError(grpc.status.INVALID_ARGUMENT, `Invalid UUID ${JSON.stringify(uuid.getString())}`);
  }
  return text;
}

function uuidDto(id: string, structured: boolean): shared.UUID {
  const uuid = new shared.UUID();
  if (!structured) {
    uuid.setString(id);
    return uuid;
  }
  const hex = id.replace(/-/g, '');
  const value = new shared.UUID.Structured();
  value.setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString());
  value.setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString());
  uuid.setStructured(value);
  return uuid;
}

/** A google.rpc.Status as BatchAppend reports errors: code, message, details packed as Any. */
function status(code: number, message: string, typeName?: string, details?: { serializeBinary(): Uint8Array }): Status {
  const result = new Status();
  result.setCode(code as Code);
  result.setMessage(message);
  const any = new Any();
  if (typeName && details) any.pack(details.serializeBinary(), typeName);
  else any.pack(new ProtoEmpty().serializeBinary(), 'google.protobuf.Empty');
  result.setDetails(any);
  return result;
}

function serviceError(code: grpc.status, details: string, metadata = new grpc.Metadata()): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata });
}

function toServiceError(error: unknown): grpc.ServiceError {
  if (typeof error === 'object' && error !== null && 'code' in error && 'details' in error) return error as grpc.ServiceError;
  return serviceError(grpc.status.INTERNAL, error instanceof Error ? error.message : String(error));
}
