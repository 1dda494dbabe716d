/**
 * The table's stream as N shards, as a DynamoDB table with N partitions has.
 *
 * DynamoDB Local's stream has one shard. In AWS a stream has one shard per
 * partition, a key's records all go to its partition's shard in order, and
 * shards close and are replaced by a child, whose records may be read only
 * once the parent's are all processed ("Because shards have a lineage (parent
 * and children), an application must always process a parent shard before it
 * processes a child shard",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html#Streams.Processing).
 *
 * `ShardedStream` implements the three stream calls the poller makes on top
 * of the real stream: it reads the real records in sequence order and hands
 * each to lane `hash(partition key) mod N`. A lane is a line of shards: each
 * holds at most `recordsPerShard` records, then closes (DescribeStream shows
 * its EndingSequenceNumber) and its child, whose ParentShardId names it,
 * takes the lane's next records. Records keep their real sequence numbers, so
 * they increase within a shard as in AWS.
 *
 * Shards close by count, never by time: a runtime restarted on the same
 * --data-dir reads the real stream again from its start and must rebuild the
 * same shards with the same ids, or the poller's checkpoints would name other
 * records.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  _Record,
  DescribeStreamCommandInput,
  DescribeStreamCommandOutput,
  GetRecordsCommandInput,
  GetRecordsCommandOutput,
  GetShardIteratorCommandInput,
  GetShardIteratorCommandOutput,
  Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { compareSequenceNumbers } from './stream-event.js';
import type { StreamsApi } from './stream-poller.js';

/** The most shards `--stream-shards` accepts: each is a concurrent invocation locally. */
export const maxStreamShards = 64;

export interface ShardedStreamOptions {
  /** The real stream (DynamoDB Local's, one shard at a time). */
  readonly source: StreamsApi;
  readonly streamArn: string;
  readonly shardCount: number;
  /** The table's partition key: what decides a record's shard. */
  readonly partitionKeyName: string;
  /** Records a shard takes before it closes and its child continues. @default 1000 */
  readonly recordsPerShard?: number;
  /**
   * Records held for shards the poller has not finished; past it the real
   * stream is not read until shards are done (their records are dropped once
   * a child is read). Raised to 2 × shardCount × recordsPerShard when lower.
   * @default 20000
   */
  readonly maxHeldRecords?: number;
}

/** FNV-1a (32 bits) over the key's UTF-8 bytes: stable across runs and platforms. */
export function shardIndexForKey(key: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}

/** The partition key of a record as a string; records without one go to lane 0. */
function partitionKeyOf(record: _Record, name: string): string {
  const value = record.dynamodb?.Keys?.[name];
  if (value?.S !== undefined) return value.S;
  if (value?.N !== undefined) return value.N;
  if (value?.B !== undefined) return Buffer.from(value.B).toString('base64');
  return '';
}

/** `shardId-<generation, 20 digits>-<lane>of<count>`: sortable, and never equal across shard counts. */
export function virtualShardId(lane: number, generation: number, shardCount: number): string {
  return `shardId-${String(generation).padStart(20, '0')}-${lane}of${shardCount}`;
}

interface VirtualShard {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly lane: number;
  readonly generation: number;
  readonly records: _Record[];
  closed: boolean;
}

interface SourceShard {
  readonly parentShardId?: string;
  iterator?: string;
  ended: boolean;
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** Errors about the real stream that name its shard or iterator; the poller would misread them as ours. */
const sourcePositionErrors = new Set([
  'ExpiredIteratorException',
  'TrimmedDataAccessException',
  'ResourceNotFoundException',
  'ValidationException',
]);

export class ShardedStream implements StreamsApi {
  private readonly source: StreamsApi;
  private readonly streamArn: string;
  private readonly shardCount: number;
  private readonly partitionKeyName: string;
  private readonly recordsPerShard: number;
  private readonly maxHeldRecords: number;
  /** Every shard not yet dropped, in creation order. */
  private readonly shards = new Map<string, VirtualShard>();
  /** The open shard of each lane. */
  private readonly openShards: VirtualShard[] = [];
  private readonly sourceShards = new Map<string, SourceShard>();
  /** The last real sequence number handed to a lane. */
  private lastRouted: string | undefined;
  private heldRecords = 0;
  private reading: Promise<void> | undefined;
  private lastSourceDescribeAt = Number.NEGATIVE_INFINITY;

  constructor(options: ShardedStreamOptions) {
    if (
      !Number.isInteger(options.shardCount) ||
      options.shardCount < 1 ||
      options.shardCount > maxStreamShards
    )
      throw new RangeError(`shardCount must be an integer from 1 to ${maxStreamShards}`);
    this.source = options.source;
    this.streamArn = options.streamArn;
    this.shardCount = options.shardCount;
    this.partitionKeyName = options.partitionKeyName;
    this.recordsPerShard = options.recordsPerShard ?? 1_000;
    // Open shards free nothing until they close, so the bound must leave room
    // for closed ones, whose records are freed once the poller finishes them.
    this.maxHeldRecords = Math.max(
      options.maxHeldRecords ?? 20_000,
      2 * this.shardCount * this.recordsPerShard,
    );
    for (let lane = 0; lane < this.shardCount; lane++) this.openShard(lane, 0, undefined);
  }

  /** Records held in memory for shards not yet finished (bounded by maxHeldRecords). */
  heldRecordCount(): number {
    return this.heldRecords;
  }

  async describeStream(input: DescribeStreamCommandInput): Promise<DescribeStreamCommandOutput> {
    await this.readSource();
    const all = [...this.shards.values()];
    const start = input.ExclusiveStartShardId
      ? all.findIndex((shard) => shard.shardId === input.ExclusiveStartShardId) + 1
      : 0;
    const limit = Math.min(input.Limit ?? 100, 100);
    const page = all.slice(start, start + limit);
    const last = page.at(-1);
    return {
      $metadata: {},
      StreamDescription: {
        StreamArn: this.streamArn,
        StreamStatus: 'ENABLED',
        Shards: page.map((shard) => this.describe(shard)),
        ...(last && start + limit < all.length ? { LastEvaluatedShardId: last.shardId } : {}),
      },
    };
  }

  async getShardIterator(input: GetShardIteratorCommandInput): Promise<GetShardIteratorCommandOutput> {
    const shard = this.shardNamed(input.ShardId ?? '');
    const sequenceNumber = input.SequenceNumber ?? '';
    const firstAbove = (inclusive: boolean) => {
      const index = shard.records.findIndex((record) => {
        const order = compareSequenceNumbers(record.dynamodb?.SequenceNumber ?? '0', sequenceNumber);
        return inclusive ? order >= 0 : order > 0;
      });
      return index < 0 ? shard.records.length : index;
    };
    let position: number;
    switch (input.ShardIteratorType) {
      case 'TRIM_HORIZON':
        position = 0;
        break;
      case 'LATEST':
        position = shard.records.length;
        break;
      case 'AT_SEQUENCE_NUMBER':
        position = firstAbove(true);
        break;
      case 'AFTER_SEQUENCE_NUMBER':
        position = firstAbove(false);
        break;
      default:
        throw awsError('ValidationException', `unknown ShardIteratorType ${input.ShardIteratorType}`);
    }
    // Reading a child means its parent is done (the poller keeps lineage):
    // the parent's records are no longer needed.
    this.dropAncestors(shard);
    return { $metadata: {}, ShardIterator: `${shard.shardId}|${position}` };
  }

  async getRecords(input: GetRecordsCommandInput): Promise<GetRecordsCommandOutput> {
    const [shardId = '', positionText = ''] = (input.ShardIterator ?? '').split('|');
    const shard = this.shardNamed(shardId);
    const position = Number(positionText);
    if (!Number.isInteger(position) || position < 0)
      throw awsError('ValidationException', 'invalid shard iterator');
    await this.readSource();
    const records = shard.records.slice(position, position + Math.min(input.Limit ?? 1_000, 1_000));
    const next = position + records.length;
    const ended = shard.closed && next >= shard.records.length;
    return {
      $metadata: {},
      Records: records,
      ...(ended ? {} : { NextShardIterator: `${shard.shardId}|${next}` }),
    };
  }

  // ---- reading the real stream ---------------------------------------------

  /** One read of the real stream at a time; concurrent callers share it. */
  private readSource(): Promise<void> {
    if (this.heldRecords >= this.maxHeldRecords) return Promise.resolve();
    this.reading ??= this.readSourceOnce().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async readSourceOnce(): Promise<void> {
    if (this.needsSourceShards()) await this.describeSource();
    // Parents before children, as on any stream.
    for (const [shardId, sourceShard] of this.sourceShards) {
      if (sourceShard.ended) continue;
      const parent = sourceShard.parentShardId ? this.sourceShards.get(sourceShard.parentShardId) : undefined;
      if (parent && !parent.ended) continue;
      await this.readSourceShard(shardId, sourceShard);
    }
  }

  private needsSourceShards(): boolean {
    const now = Date.now();
    const stale = now - this.lastSourceDescribeAt > 2_000;
    const noneOpen = [...this.sourceShards.values()].every((shard) => shard.ended);
    return (stale || noneOpen) && now - this.lastSourceDescribeAt > 100;
  }

  private async describeSource(): Promise<void> {
    this.lastSourceDescribeAt = Date.now();
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await this.source.describeStream({
        StreamArn: this.streamArn,
        ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}),
      });
      for (const shard of page.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || this.sourceShards.has(shard.ShardId)) continue;
        this.sourceShards.set(shard.ShardId, {
          ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}),
          ended: false,
        });
      }
      exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
  }

  private async readSourceShard(shardId: string, shard: SourceShard): Promise<void> {
    try {
      shard.iterator ??= await this.sourceIterator(shardId);
      const room = this.maxHeldRecords - this.heldRecords;
      if (room <= 0) return;
      const answer = await this.source.getRecords({
        ShardIterator: shard.iterator,
        Limit: Math.min(room, 1_000),
      });
      for (const record of answer.Records ?? []) this.route(record);
      if (answer.NextShardIterator) shard.iterator = answer.NextShardIterator;
      else {
        shard.iterator = undefined;
        shard.ended = true;
      }
    } catch (error) {
      shard.iterator = undefined;
      const name = (error as { name?: string }).name ?? '';
      if (name === 'ResourceNotFoundException') shard.ended = true; // aged out of the stream
      if (sourcePositionErrors.has(name)) return; // a fresh iterator next time
      throw error;
    }
  }

  /** After the last record routed when it lies in this shard, else from the shard's start. */
  private async sourceIterator(shardId: string): Promise<string> {
    const input = { StreamArn: this.streamArn, ShardId: shardId };
    if (this.lastRouted) {
      try {
        const answer = await this.source.getShardIterator({
          ...input,
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          SequenceNumber: this.lastRouted,
        });
        if (answer.ShardIterator) return answer.ShardIterator;
      } catch (error) {
        // Not a sequence number of this shard: read it from its start (route() skips what it has).
        if ((error as { name?: string }).name !== 'ValidationException') throw error;
      }
    }
    const answer = await this.source.getShardIterator({ ...input, ShardIteratorType: 'TRIM_HORIZON' });
    if (!answer.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
    return answer.ShardIterator;
  }

  private route(record: _Record): void {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (!sequenceNumber) return;
    // Never route a record twice when an iterator is re-created behind us.
    if (this.lastRouted && compareSequenceNumbers(sequenceNumber, this.lastRouted) <= 0) return;
    this.lastRouted = sequenceNumber;
    const lane = shardIndexForKey(partitionKeyOf(record, this.partitionKeyName), this.shardCount);
    const shard = this.openShards[lane] as VirtualShard;
    shard.records.push(record);
    this.heldRecords++;
    if (shard.records.length >= this.recordsPerShard) {
      shard.closed = true;
      this.openShard(lane, shard.generation + 1, shard.shardId);
    }
  }

  // ---- shards ----------------------------------------------------------------

  private openShard(lane: number, generation: number, parentShardId: string | undefined): void {
    const shard: VirtualShard = {
      shardId: virtualShardId(lane, generation, this.shardCount),
      ...(parentShardId ? { parentShardId } : {}),
      lane,
      generation,
      records: [],
      closed: false,
    };
    this.shards.set(shard.shardId, shard);
    this.openShards[lane] = shard;
  }

  private dropAncestors(shard: VirtualShard): void {
    for (let id = shard.parentShardId; id !== undefined; ) {
      const parent = this.shards.get(id);
      if (!parent) return;
      this.heldRecords -= parent.records.length;
      this.shards.delete(id);
      id = parent.parentShardId;
    }
  }

  private shardNamed(shardId: string): VirtualShard {
    const shard = this.shards.get(shardId);
    if (!shard) throw awsError('ResourceNotFoundException', `no shard ${shardId} in ${this.streamArn}`);
    return shard;
  }

  private describe(shard: VirtualShard): Shard {
    const first = shard.records[0]?.dynamodb?.SequenceNumber;
    const last = shard.records.at(-1)?.dynamodb?.SequenceNumber;
    return {
      ShardId: shard.shardId,
      ...(shard.parentShardId ? { ParentShardId: shard.parentShardId } : {}),
      SequenceNumberRange: {
        ...(first ? { StartingSequenceNumber: first } : {}),
        ...(shard.closed && last ? { EndingSequenceNumber: last } : {}),
      },
    };
  }
}

/**
 * Remembers the shard layout a --data-dir was run with and refuses another:
 * the stream checkpoints name shards of one layout, and another layout would
 * deliver the kept records again under new shard ids. Throws a message for
 * the command line.
 */
export function claimStreamLayout(dataDir: string, shardCount: number, recordsPerShard = 1_000): void {
  const file = join(dataDir, 'stream-layout.json');
  const wanted = { shards: shardCount, recordsPerShard: shardCount === 1 ? 0 : recordsPerShard };
  let kept: { shards?: unknown; recordsPerShard?: unknown } | undefined;
  if (existsSync(file)) kept = JSON.parse(readFileSync(file, 'utf8')) as typeof kept;
  else if (existsSync(join(dataDir, 'stream-checkpoints.json'))) kept = { shards: 1, recordsPerShard: 0 };
  if (kept && (kept.shards !== wanted.shards || kept.recordsPerShard !== wanted.recordsPerShard)) {
    throw new Error(
      `${dataDir} was used with --stream-shards ${String(kept.shards)}; start it with that, or use another --data-dir`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(wanted));
}
