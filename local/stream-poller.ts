/**
 * A local stand-in for Lambda's DynamoDB event source mapping.
 *
 * It reads the table's real stream (DynamoDB Local) and invokes a handler with
 * real stream events, following the rules of the deployed mapping
 * (lib/constructs/aggregation.ts): batches of up to STREAM_BATCH_SIZE records, a batching
 * window, one invocation at a time per shard in sequence order (parallelization
 * factor 1), parents before children, bisect on error, partial-batch responses,
 * bounded retries and, instead of the SQS on-failure destination, a dead-letter
 * list that the runtime shows in its log and in /api/health.
 *
 * Where Lambda's behaviour is not fully specified we choose the reading that
 * keeps a shard flowing:
 * - splitting a batch on error does not use up a retry; a record's retries are
 *   counted when it alone fails (a one-record batch that throws) or when it is
 *   the first failure a partial-batch response names;
 * - when a record has failed `maxRetryAttempts + 1` times it alone goes to the
 *   dead-letter list and the shard continues after it (with bisecting on, that
 *   is where Lambda ends up too: the failing batch has been narrowed to it);
 * - records older than the maximum record age at the head of a batch go to
 *   the dead-letter list unsent, as Lambda discards them.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type _Record,
  DescribeStreamCommand,
  type DescribeStreamCommandInput,
  type DescribeStreamCommandOutput,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandInput,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type GetShardIteratorCommandOutput,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { MAX_RECORD_AGE_SECONDS } from '../functions/domain/record-age.js';
import { STREAM_BATCH_SIZE } from '../functions/domain/stream-batch.js';
import {
  buildStreamEvent,
  compareSequenceNumbers,
  interpretBatchResponse,
  type StreamHandler,
  type StreamHandlerResult,
  toLambdaRecord,
  tumblingWindowAt,
} from './stream-event.js';

/** The three stream calls the poller makes; a fake can stand in for DynamoDB Local in unit tests. */
export interface StreamsApi {
  describeStream(input: DescribeStreamCommandInput): Promise<DescribeStreamCommandOutput>;
  getShardIterator(input: GetShardIteratorCommandInput): Promise<GetShardIteratorCommandOutput>;
  getRecords(input: GetRecordsCommandInput): Promise<GetRecordsCommandOutput>;
}

export function streamsApiFromClient(client: DynamoDBStreamsClient): StreamsApi {
  return {
    describeStream: (input) => client.send(new DescribeStreamCommand(input)),
    getShardIterator: (input) => client.send(new GetShardIteratorCommand(input)),
    getRecords: (input) => client.send(new GetRecordsCommand(input)),
  };
}

interface InvocationInfo {
  readonly shardId: string;
  readonly sequenceNumbers: readonly string[];
  /** How many times the first record of this batch has failed before. */
  readonly previousFailures: number;
}

export interface StreamPollerOptions {
  readonly streams: StreamsApi;
  readonly streamArn: string;
  readonly handler: StreamHandler;
  /** Put into `awsRegion` when a record lacks one. @default 'us-east-1' */
  readonly region?: string;
  /** @default 100, as deployed */
  readonly batchSize?: number;
  /**
   * How long to wait for a batch to fill. Deployed it is 1 s by default (0–300 s); locally the
   * default is shorter so that POST-to-dashboard stays under the 1 s target;
   * under load batches fill before the window closes anyway.
   * @default 100
   */
  readonly batchingWindowMs?: number;
  /** @default 5, as deployed */
  readonly maxRetryAttempts?: number;
  /** @default true, as deployed */
  readonly bisectBatchOnError?: boolean;
  /** @default 900, as deployed */
  readonly tumblingWindowSeconds?: number;
  /**
   * Records created longer ago are not sent but dead-lettered, as Lambda's
   * MaximumRecordAgeInSeconds discards them. The aggregate writer removes
   * watermarks on the promise that no such record is delivered
   * (functions/domain/record-age.ts). @default MAX_RECORD_AGE_SECONDS, as deployed
   */
  readonly maxRecordAgeSeconds?: number;
  /** First delay before retrying a failed record; doubles per failure up to 2 s. @default 100 */
  readonly retryBackoffMs?: number;
  /**
   * Longest pause between reads of an idle shard. Lambda polls about 4 times
   * a second; locally reads are cheap and freshness counts. @default 100
   */
  readonly idlePollMaxMs?: number;
  /** How often DescribeStream looks for new shards. @default 2000 */
  readonly shardDiscoveryIntervalMs?: number;
  /** Where to keep checkpoints and dead letters between runs; in memory only when absent. */
  readonly checkpointFile?: string;
  readonly log?: (line: string) => void;
  /** Fault injection: runs before each invocation; a throw counts as a function error. */
  readonly beforeInvoke?: (invocation: InvocationInfo) => void | Promise<void>;
  /**
   * Errors that mean the store cannot be reached (DynamoDB Local stopped or
   * restarting). Lambda has no local analogue: its store does not go away.
   * Such a failure retries the same batch after a pause and never sends a
   * record to the dead-letter list. @default isConnectionError
   */
  readonly isStoreOutage?: (error: unknown) => boolean;
  /** Pause before sending a batch again after a store outage. @default 1000 */
  readonly storeOutagePauseMs?: number;
  readonly now?: () => number;
}

const connectionErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
]);

/** True for errors of a store that is not answering at all, as opposed to one that rejects a request. */
function isConnectionError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const { code, name, message } = current as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && connectionErrorCodes.has(code)) return true;
    if (
      name === 'TimeoutError' ||
      (typeof message === 'string' && /socket hang up|ECONNREFUSED/.test(message))
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export interface DeadLetter {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly eventID?: string;
  readonly eventName?: string;
  readonly keys?: unknown;
  readonly attempts: number;
  readonly reason: string;
  readonly at: string;
}

interface ShardStatus {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly phase: ShardPhase;
  /** Last sequence number handled (processed or dead-lettered). */
  readonly checkpoint?: string;
  /** Records read but not yet handled. */
  readonly pendingRecords: number;
  /** How long the oldest pending record has waited since it was read. */
  readonly oldestPendingMs: number;
  readonly batches: number;
  readonly lastBatchAt?: string;
}

export interface PollerStatus {
  readonly streamArn: string;
  readonly running: boolean;
  readonly invocations: number;
  readonly batchesSucceeded: number;
  readonly recordsProcessed: number;
  readonly bisections: number;
  readonly retries: number;
  readonly deadLetterCount: number;
  /** The most recent dead letters (at most 100). */
  readonly deadLetters: readonly DeadLetter[];
  readonly shards: readonly ShardStatus[];
  readonly lastError: { readonly message: string; readonly at: string } | null;
}

type ShardPhase = 'waiting-for-parent' | 'reading' | 'finished';

interface BufferedRecord {
  readonly sequenceNumber: string;
  readonly lambdaRecord: DynamoDBRecord;
  readonly readAt: number;
  /** Its size in the invocation's JSON payload. */
  readonly payloadBytes: number;
}

/**
 * Lambda hands a stream batch to the function "in a single call, up to the
 * payload limit for synchronous invocation (6 MB)" (CreateEventSourceMapping,
 * BatchSize), so a batch of large records holds fewer than BatchSize. The
 * poller cuts batches the same way: with BatchSize 1,000 and items of up to
 * 400 KB (two images per MODIFY), the count alone would let through
 * invocations AWS never sends. Kept below the limit by the envelope's share.
 */
export const MAX_INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/** How many of `buffer`'s first records, at most `limit`, fit one invocation's payload (at least one). */
function countWithinPayload(buffer: readonly BufferedRecord[], limit: number): number {
  let bytes = 0;
  let count = 0;
  for (const record of buffer) {
    if (count >= limit || (count > 0 && bytes + record.payloadBytes > MAX_INVOCATION_PAYLOAD_BYTES)) break;
    bytes += record.payloadBytes;
    count++;
  }
  return count;
}

interface ShardRuntime {
  readonly shardId: string;
  readonly parentShardId?: string;
  phase: ShardPhase;
  checkpoint?: string;
  iterator?: string;
  endOfShard: boolean;
  buffer: BufferedRecord[];
  /** Sizes of the batches still owed after a bisect or a partial failure, head first. */
  pendingBatchSizes: number[];
  failures: Map<string, { count: number; reason: string }>;
  window: { start: string; end: string } | undefined;
  windowState: Record<string, unknown>;
  lastEmptyReadAt: number;
  idleDelayMs: number;
  invoking: boolean;
  batches: number;
  lastBatchAt?: number;
  loop?: Promise<void>;
}

interface PersistedState {
  readonly version: 1;
  readonly streamArn: string;
  readonly shards: Record<string, { checkpoint?: string; finished?: boolean }>;
  readonly deadLetters: DeadLetter[];
  readonly deadLetterCount: number;
}

const maxDeadLettersKept = 1_000;

class StoppedError extends Error {
  override name = 'StoppedError';
}

function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? '';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export class StreamPoller {
  private readonly options: Required<
    Omit<StreamPollerOptions, 'checkpointFile' | 'beforeInvoke' | 'log' | 'now'>
  > &
    Pick<StreamPollerOptions, 'checkpointFile' | 'beforeInvoke'>;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private readonly shards = new Map<string, ShardRuntime>();
  private readonly deadLetters: DeadLetter[] = [];
  private deadLetterCount = 0;
  private generation = 0;
  private running = false;
  private stopSignal = new AbortController();
  private discoveryLoop: Promise<void> | undefined;
  private stopping: Promise<void> = Promise.resolve();
  private persistTimer: NodeJS.Timeout | undefined;
  private lastError: { message: string; at: string } | null = null;
  private lastErrorLoggedAt = 0;
  private counters = { invocations: 0, batchesSucceeded: 0, recordsProcessed: 0, bisections: 0, retries: 0 };

  constructor(options: StreamPollerOptions) {
    this.options = {
      streams: options.streams,
      streamArn: options.streamArn,
      handler: options.handler,
      region: options.region ?? 'us-east-1',
      batchSize: options.batchSize ?? STREAM_BATCH_SIZE,
      batchingWindowMs: options.batchingWindowMs ?? 100,
      maxRetryAttempts: options.maxRetryAttempts ?? 5,
      bisectBatchOnError: options.bisectBatchOnError ?? true,
      tumblingWindowSeconds: options.tumblingWindowSeconds ?? 900,
      maxRecordAgeSeconds: options.maxRecordAgeSeconds ?? MAX_RECORD_AGE_SECONDS,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      idlePollMaxMs: options.idlePollMaxMs ?? 100,
      shardDiscoveryIntervalMs: options.shardDiscoveryIntervalMs ?? 2_000,
      checkpointFile: options.checkpointFile,
      beforeInvoke: options.beforeInvoke,
      isStoreOutage: options.isStoreOutage ?? isConnectionError,
      storeOutagePauseMs: options.storeOutagePauseMs ?? 1_000,
    };
    this.log = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
    this.restorePersistedState();
  }

  /** Starts discovering shards and polling them. Restartable after stop(): it resumes from the checkpoints. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.stopSignal = new AbortController();
    for (const shard of this.shards.values()) this.resetReadPosition(shard);
    const generation = this.generation;
    this.discoveryLoop = this.runDiscovery(generation);
  }

  /**
   * Stops polling. By default waits for in-flight invocations to finish and
   * records their outcome, as Lambda lets a running invocation complete.
   * `abandonInFlight` simulates a crash: results still in flight are dropped,
   * so those records are delivered again after start().
   */
  async stop(options: { abandonInFlight?: boolean } = {}): Promise<void> {
    if (options.abandonInFlight) {
      this.running = false;
      this.generation++;
      this.stopSignal.abort();
      this.persistNow();
      return;
    }
    if (!this.running) return this.stopping;
    this.running = false;
    const loops = [this.discoveryLoop, ...[...this.shards.values()].map((shard) => shard.loop)];
    this.stopSignal.abort();
    this.stopping = Promise.allSettled(loops).then(() => {
      this.generation++;
      this.persistNow();
    });
    return this.stopping;
  }

  status(): PollerStatus {
    const now = this.now();
    return {
      streamArn: this.options.streamArn,
      running: this.running,
      ...this.counters,
      deadLetterCount: this.deadLetterCount,
      deadLetters: this.deadLetters.slice(-100),
      shards: [...this.shards.values()].map((shard) => ({
        shardId: shard.shardId,
        ...(shard.parentShardId ? { parentShardId: shard.parentShardId } : {}),
        phase: shard.phase,
        ...(shard.checkpoint !== undefined ? { checkpoint: shard.checkpoint } : {}),
        pendingRecords: shard.buffer.length,
        oldestPendingMs: shard.buffer[0] ? now - shard.buffer[0].readAt : 0,
        batches: shard.batches,
        ...(shard.lastBatchAt !== undefined
          ? { lastBatchAt: new Date(shard.lastBatchAt).toISOString() }
          : {}),
      })),
      lastError: this.lastError,
    };
  }

  /**
   * Resolves once every shard has handed all it holds to the handler and a read
   * that started after this call found nothing new. Tests and the demo seed use
   * it to know the aggregates have caught up with the table.
   */
  async waitUntilCaughtUp(timeoutMs = 30_000): Promise<void> {
    const since = this.now();
    const deadline = since + timeoutMs;
    for (;;) {
      const shards = [...this.shards.values()];
      const caughtUp =
        shards.length > 0 &&
        shards.every(
          (shard) =>
            shard.phase === 'finished' ||
            (shard.phase === 'reading' &&
              shard.buffer.length === 0 &&
              !shard.invoking &&
              shard.lastEmptyReadAt > since),
        );
      if (caughtUp) return;
      if (this.now() > deadline) {
        throw new Error(
          `stream poller has not caught up after ${timeoutMs} ms: ${JSON.stringify(this.status())}`,
        );
      }
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  // ---- shard discovery -------------------------------------------------------

  private async runDiscovery(generation: number): Promise<void> {
    while (this.isCurrent(generation)) {
      try {
        await this.discoverShards(generation);
      } catch (error) {
        this.noteError('DescribeStream failed', error);
      }
      await this.sleep(this.options.shardDiscoveryIntervalMs).catch(() => {});
    }
  }

  /** DescribeStream, page by page, then starts every shard whose parent is done. */
  private async discoverShards(generation: number): Promise<void> {
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await this.options.streams.describeStream({
        StreamArn: this.options.streamArn,
        ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}),
      });
      for (const shard of page.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || this.shards.has(shard.ShardId)) continue;
        this.shards.set(shard.ShardId, this.newShard(shard.ShardId, shard.ParentShardId));
      }
      exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);

    for (const shard of this.shards.values()) {
      if (shard.phase !== 'waiting-for-parent' || !this.isCurrent(generation)) continue;
      const parent = shard.parentShardId ? this.shards.get(shard.parentShardId) : undefined;
      // A parent we never saw has aged out of the stream; nothing to wait for.
      if (parent && parent.phase !== 'finished') continue;
      shard.phase = 'reading';
      shard.loop = this.runShard(shard, generation);
    }
  }

  private newShard(shardId: string, parentShardId: string | undefined): ShardRuntime {
    const persisted = this.persistedShards.get(shardId);
    return {
      shardId,
      ...(parentShardId ? { parentShardId } : {}),
      phase: persisted?.finished ? 'finished' : 'waiting-for-parent',
      ...(persisted?.checkpoint ? { checkpoint: persisted.checkpoint } : {}),
      endOfShard: false,
      buffer: [],
      pendingBatchSizes: [],
      failures: new Map(),
      window: undefined,
      windowState: {},
      lastEmptyReadAt: 0,
      idleDelayMs: 10,
      invoking: false,
      batches: 0,
    };
  }

  // ---- reading a shard -------------------------------------------------------

  private async runShard(shard: ShardRuntime, generation: number): Promise<void> {
    while (this.isCurrent(generation)) {
      try {
        let newRecords = 0;
        if (!shard.endOfShard && shard.buffer.length < this.options.batchSize) {
          newRecords = await this.readRecords(shard);
        }
        if (shard.buffer.length === 0) {
          if (shard.endOfShard) {
            this.finishShard(shard, generation);
            return;
          }
          // Idle: back off up to idlePollMaxMs; a read with records resets it.
          shard.idleDelayMs =
            newRecords > 0 ? 10 : Math.min(shard.idleDelayMs * 2, this.options.idlePollMaxMs);
          await this.sleep(shard.idleDelayMs);
          continue;
        }
        shard.idleDelayMs = 10;
        const batchSize = countWithinPayload(
          shard.buffer,
          shard.pendingBatchSizes[0] ?? this.options.batchSize,
        );
        const retrying = shard.pendingBatchSizes.length > 0;
        const windowLeftMs = (shard.buffer[0]?.readAt ?? 0) + this.options.batchingWindowMs - this.now();
        // Full by count, or by payload: more records would not fit one invocation.
        const batchFull = shard.buffer.length >= this.options.batchSize || batchSize < shard.buffer.length;
        if (!retrying && !batchFull && !shard.endOfShard && windowLeftMs > 0) {
          // Keep filling the batch until the window closes.
          if (newRecords === 0) await this.sleep(Math.min(25, windowLeftMs));
          continue;
        }
        await this.invokeBatch(shard, batchSize, generation);
      } catch (error) {
        if (error instanceof StoppedError || !this.isCurrent(generation)) return;
        await this.recoverFromReadError(shard, error);
      }
    }
  }

  private async readRecords(shard: ShardRuntime): Promise<number> {
    if (!shard.iterator) shard.iterator = await this.shardIterator(shard);
    const answer = await this.options.streams.getRecords({ ShardIterator: shard.iterator, Limit: 1000 });
    const lastKnown = shard.buffer.at(-1)?.sequenceNumber ?? shard.checkpoint;
    let added = 0;
    const readAt = this.now();
    for (const record of answer.Records ?? []) {
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      // Never hand a record twice because an iterator was re-created behind us.
      if (!sequenceNumber || (lastKnown && compareSequenceNumbers(sequenceNumber, lastKnown) <= 0)) continue;
      const lambdaRecord = this.toLambda(record);
      const payloadBytes = Buffer.byteLength(JSON.stringify(lambdaRecord)) + 1;
      shard.buffer.push({ sequenceNumber, lambdaRecord, readAt, payloadBytes });
      added++;
    }
    if (added === 0) shard.lastEmptyReadAt = readAt;
    if (answer.NextShardIterator) shard.iterator = answer.NextShardIterator;
    else {
      // A closed shard: once its records are handled, its children may start.
      shard.iterator = undefined;
      shard.endOfShard = true;
    }
    return added;
  }

  private toLambda(record: _Record): DynamoDBRecord {
    return toLambdaRecord(record, this.options.streamArn, this.options.region);
  }

  /** Continues after the last record read, or after the checkpoint, or from the start of the shard. */
  private async shardIterator(shard: ShardRuntime): Promise<string> {
    const after = shard.buffer.at(-1)?.sequenceNumber ?? shard.checkpoint;
    const answer = await this.options.streams.getShardIterator({
      StreamArn: this.options.streamArn,
      ShardId: shard.shardId,
      ...(after
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
        : { ShardIteratorType: 'TRIM_HORIZON' }),
    });
    if (!answer.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${shard.shardId}`);
    return answer.ShardIterator;
  }

  private async recoverFromReadError(shard: ShardRuntime, error: unknown): Promise<void> {
    const name = errorName(error);
    if (name === 'ExpiredIteratorException') {
      // Iterators live 15 minutes; a fresh one continues after what we hold.
      shard.iterator = undefined;
      return;
    }
    if (name === 'TrimmedDataAccessException' || (name === 'ValidationException' && shard.checkpoint)) {
      // The checkpoint is older than the stream's retention (or unknown to a
      // re-created stream): start over from the oldest record still there.
      this.log(`stream: shard ${shard.shardId}: ${errorMessage(error)}; restarting from TRIM_HORIZON`);
      shard.iterator = undefined;
      shard.buffer = [];
      shard.pendingBatchSizes = [];
      shard.checkpoint = undefined;
      return;
    }
    if (name === 'ResourceNotFoundException' && !shard.iterator) {
      // The shard is gone (aged out); there is nothing left to read.
      shard.endOfShard = true;
    }
    shard.iterator = undefined;
    this.noteError(`reading shard ${shard.shardId} failed`, error);
    await this.sleep(500).catch(() => {});
  }

  private resetReadPosition(shard: ShardRuntime): void {
    shard.iterator = undefined;
    shard.buffer = [];
    shard.pendingBatchSizes = [];
    shard.endOfShard = false;
    shard.invoking = false;
    if (shard.phase === 'reading') shard.phase = 'waiting-for-parent';
  }

  private finishShard(shard: ShardRuntime, generation: number): void {
    shard.phase = 'finished';
    this.schedulePersist();
    // Children wait for their parent; look again now rather than at the next discovery.
    this.discoverShards(generation).catch((error) => this.noteError('DescribeStream failed', error));
  }

  // ---- invoking the handler --------------------------------------------------

  private async invokeBatch(shard: ShardRuntime, size: number, generation: number): Promise<void> {
    const batch = shard.buffer.slice(0, size);
    const sequenceNumbers = batch.map((record) => record.sequenceNumber);
    const first = sequenceNumbers[0];
    if (first === undefined) return;
    const oldestAllowedSeconds = this.now() / 1000 - this.options.maxRecordAgeSeconds;
    const firstYoung = batch.findIndex(
      (record) =>
        (record.lambdaRecord.dynamodb?.ApproximateCreationDateTime ?? Infinity) >= oldestAllowedSeconds,
    );
    const tooOld = firstYoung < 0 ? batch.length : firstYoung;
    if (tooOld > 0) {
      const attempts = shard.failures.get(first)?.count ?? 0;
      this.deadLetterHead(shard, batch.slice(0, tooOld), attempts, 'older than the maximum record age');
      return;
    }
    const window = tumblingWindowAt(this.now(), this.options.tumblingWindowSeconds);
    if (shard.window?.start !== window.start) {
      shard.window = window;
      shard.windowState = {};
    }
    // A fresh copy per invocation, as each Lambda invocation parses its own JSON.
    const event = structuredClone(
      buildStreamEvent({
        records: batch.map((record) => record.lambdaRecord),
        shardId: shard.shardId,
        eventSourceArn: this.options.streamArn,
        window,
        state: shard.windowState,
      }),
    );

    let outcome: { result: StreamHandlerResult } | { error: unknown };
    shard.invoking = true;
    this.counters.invocations++;
    const startedAt = this.now();
    try {
      await this.options.beforeInvoke?.({
        shardId: shard.shardId,
        sequenceNumbers,
        previousFailures: shard.failures.get(first)?.count ?? 0,
      });
      outcome = { result: await this.options.handler(event) };
    } catch (error) {
      outcome = { error };
    } finally {
      shard.invoking = false;
    }
    // After stop({ abandonInFlight }) this result belongs to a "crashed" poller.
    if (generation !== this.generation) throw new StoppedError();
    const tookMs = this.now() - startedAt;
    if (tookMs > 10_000) this.log(`stream: a batch of ${size} on ${shard.shardId} took ${tookMs} ms`);

    if ('error' in outcome) {
      if (this.options.isStoreOutage(outcome.error)) {
        // The store is down, not the record bad: wait and send the same batch
        // again without using up its retries or splitting it.
        this.noteError(`handler could not reach the store on ${shard.shardId}; retrying`, outcome.error);
        await this.sleep(this.options.storeOutagePauseMs);
        return;
      }
      this.handleFunctionError(shard, size, errorMessage(outcome.error));
      await this.backoffAfterFailure(shard);
      return;
    }
    const verdict = interpretBatchResponse(outcome.result, sequenceNumbers);
    if (verdict.kind === 'success') {
      if (outcome.result?.state && typeof outcome.result.state === 'object')
        shard.windowState = outcome.result.state;
      this.commit(shard, size);
      return;
    }
    if (verdict.kind === 'invalid') {
      this.handleFunctionError(shard, size, verdict.reason);
      await this.backoffAfterFailure(shard);
      return;
    }
    // Partial failure: records before the first failure are done; the batch is
    // cut there and the rest is retried, starting with the failed record.
    const { firstFailedIndex } = verdict;
    if (firstFailedIndex > 0) this.commit(shard, firstFailedIndex);
    const remaining = size - firstFailedIndex;
    const failed = shard.buffer[0];
    if (!failed) return;
    this.replacePendingHead(shard, [remaining]);
    this.countFailure(shard, [failed], 'reported in batchItemFailures');
    await this.backoffAfterFailure(shard);
  }

  private handleFunctionError(shard: ShardRuntime, size: number, reason: string): void {
    this.counters.retries++;
    this.noteError(`handler failed on ${shard.shardId}`, reason, false);
    if (this.options.bisectBatchOnError && size > 1) {
      const firstHalf = Math.ceil(size / 2);
      this.replacePendingHead(shard, [firstHalf, size - firstHalf]);
      this.counters.bisections++;
      return;
    }
    this.replacePendingHead(shard, [size]);
    this.countFailure(shard, shard.buffer.slice(0, size), reason);
  }

  /**
   * Counts one more failure against the batch's first record; past the retry
   * bound the batch (one record when bisecting) goes to the dead-letter list.
   */
  private countFailure(shard: ShardRuntime, batch: readonly BufferedRecord[], reason: string): void {
    const head = batch[0];
    if (!head) return;
    const count = (shard.failures.get(head.sequenceNumber)?.count ?? 0) + 1;
    shard.failures.set(head.sequenceNumber, { count, reason });
    if (count <= this.options.maxRetryAttempts) return;
    this.deadLetterHead(shard, batch, count, reason);
  }

  /** Dead-letters `batch`, the first buffered records, and moves the checkpoint past them. */
  private deadLetterHead(
    shard: ShardRuntime,
    batch: readonly BufferedRecord[],
    attempts: number,
    reason: string,
  ): void {
    for (const record of batch) this.deadLetter(shard, record, attempts, reason);
    const pendingHead = shard.pendingBatchSizes[0] ?? batch.length;
    this.skip(shard, batch.length);
    const left = pendingHead - batch.length;
    this.replacePendingHead(shard, left > 0 ? [left] : []);
  }

  private deadLetter(shard: ShardRuntime, record: BufferedRecord, attempts: number, reason: string): void {
    const { lambdaRecord } = record;
    const letter: DeadLetter = {
      shardId: shard.shardId,
      sequenceNumber: record.sequenceNumber,
      ...(lambdaRecord.eventID ? { eventID: lambdaRecord.eventID } : {}),
      ...(lambdaRecord.eventName ? { eventName: lambdaRecord.eventName } : {}),
      ...(lambdaRecord.dynamodb?.Keys ? { keys: lambdaRecord.dynamodb.Keys } : {}),
      attempts,
      reason,
      at: new Date(this.now()).toISOString(),
    };
    this.deadLetters.push(letter);
    if (this.deadLetters.length > maxDeadLettersKept) this.deadLetters.shift();
    this.deadLetterCount++;
    this.log(
      `stream: DEAD LETTER shard ${shard.shardId} sequence ${record.sequenceNumber} ` +
        `(${letter.eventName ?? '?'} ${JSON.stringify(letter.keys ?? {})}) after ${attempts} attempts: ${reason}`,
    );
  }

  private replacePendingHead(shard: ShardRuntime, sizes: number[]): void {
    shard.pendingBatchSizes.splice(0, shard.pendingBatchSizes.length > 0 ? 1 : 0, ...sizes);
  }

  /** The first `count` buffered records succeeded. */
  private commit(shard: ShardRuntime, count: number): void {
    const head = shard.pendingBatchSizes[0];
    if (head !== undefined) {
      if (count >= head) shard.pendingBatchSizes.shift();
      else shard.pendingBatchSizes[0] = head - count;
    }
    this.counters.batchesSucceeded++;
    this.counters.recordsProcessed += count;
    shard.batches++;
    shard.lastBatchAt = this.now();
    this.skip(shard, count);
  }

  /** Moves the checkpoint past the first `count` buffered records. */
  private skip(shard: ShardRuntime, count: number): void {
    const done = shard.buffer.splice(0, count);
    for (const record of done) shard.failures.delete(record.sequenceNumber);
    const last = done.at(-1);
    if (last) shard.checkpoint = last.sequenceNumber;
    this.schedulePersist();
  }

  private async backoffAfterFailure(shard: ShardRuntime): Promise<void> {
    const head = shard.buffer[0];
    const failures = head ? (shard.failures.get(head.sequenceNumber)?.count ?? 0) : 0;
    if (failures === 0) return; // a bisect retries at once
    await this.sleep(Math.min(this.options.retryBackoffMs * 2 ** (failures - 1), 2_000));
  }

  // ---- checkpoints on disk ---------------------------------------------------

  private persistedShards = new Map<string, { checkpoint?: string; finished?: boolean }>();

  private restorePersistedState(): void {
    const file = this.options.checkpointFile;
    if (!file) return;
    let state: PersistedState;
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as PersistedState;
    } catch {
      return; // first run, or an unreadable file: start from TRIM_HORIZON (the handler is idempotent)
    }
    if (state.version !== 1 || state.streamArn !== this.options.streamArn) return;
    this.persistedShards = new Map(Object.entries(state.shards ?? {}));
    this.deadLetters.push(...(state.deadLetters ?? []).slice(-maxDeadLettersKept));
    this.deadLetterCount = state.deadLetterCount ?? this.deadLetters.length;
  }

  private schedulePersist(): void {
    if (!this.options.checkpointFile || this.persistTimer) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      this.persistNow();
    }, 200);
    this.persistTimer.unref();
  }

  private persistNow(): void {
    const file = this.options.checkpointFile;
    if (!file) return;
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    const shards: PersistedState['shards'] = Object.fromEntries(this.persistedShards);
    for (const shard of this.shards.values()) {
      shards[shard.shardId] = {
        ...(shard.checkpoint ? { checkpoint: shard.checkpoint } : {}),
        ...(shard.phase === 'finished' ? { finished: true } : {}),
      };
    }
    const state: PersistedState = {
      version: 1,
      streamArn: this.options.streamArn,
      shards,
      deadLetters: this.deadLetters,
      deadLetterCount: this.deadLetterCount,
    };
    try {
      mkdirSync(dirname(file), { recursive: true });
      // Write then rename, so a crash never leaves half a file.
      writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
      renameSync(`${file}.tmp`, file);
    } catch (error) {
      this.noteError('writing the checkpoint file failed', error);
    }
  }

  // ---- helpers ---------------------------------------------------------------

  private isCurrent(generation: number): boolean {
    return this.running && generation === this.generation;
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.stopSignal.signal;
    return new Promise((done, reject) => {
      if (signal.aborted) {
        reject(new StoppedError());
        return;
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        done();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new StoppedError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Keeps the last error for /api/health; logs repeated stream errors at most every 10 s. */
  private noteError(context: string, error: unknown, throttle = true): void {
    const message = `${context}: ${typeof error === 'string' ? error : errorMessage(error)}`;
    const now = this.now();
    this.lastError = { message, at: new Date(now).toISOString() };
    if (!throttle || now - this.lastErrorLoggedAt > 10_000) {
      this.lastErrorLoggedAt = now;
      this.log(`stream: ${message}`);
    }
  }
}
