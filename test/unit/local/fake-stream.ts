/**
 * An in-memory DynamoDB stream for poller tests: shards with parents, closing,
 * paged DescribeStream and iterators that can be made to expire.
 */
import type {
  _Record,
  DescribeStreamCommandInput,
  DescribeStreamCommandOutput,
  GetRecordsCommandInput,
  GetRecordsCommandOutput,
  GetShardIteratorCommandInput,
  GetShardIteratorCommandOutput,
} from '@aws-sdk/client-dynamodb-streams';
import type { StreamHandlerResult, WindowedStreamEvent } from '../../../local/stream-event';
import type { StreamsApi } from '../../../local/stream-poller';

export const fakeStreamArn =
  'arn:aws:dynamodb:ddblocal:000000000000:table/Executions/stream/2026-01-01T00:00:00.000';

interface FakeShard {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly records: _Record[];
  closed: boolean;
}

function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export class FakeStream implements StreamsApi {
  private readonly shards: FakeShard[] = [];
  private sequence = 0;
  /** How many upcoming GetRecords calls fail with ExpiredIteratorException. */
  expireNextReads = 0;
  getRecordsCalls = 0;

  addShard(shardId: string, parentShardId?: string): void {
    this.shards.push({ shardId, ...(parentShardId ? { parentShardId } : {}), records: [], closed: false });
  }

  closeShard(shardId: string): void {
    this.shard(shardId).closed = true;
  }

  /** Appends INSERT records for the given ids, created at `createdAt`; returns their sequence numbers. */
  put(shardId: string, ids: readonly string[], createdAt = new Date()): string[] {
    const shard = this.shard(shardId);
    return ids.map((id) => {
      this.sequence++;
      const sequenceNumber = String(this.sequence * 100).padStart(21, '0');
      shard.records.push({
        eventID: `event-${this.sequence}`,
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'ddblocal',
        dynamodb: {
          ApproximateCreationDateTime: createdAt,
          Keys: { executionId: { S: id } },
          NewImage: { executionId: { S: id }, payload: { B: new Uint8Array([1, 2, 3]) } },
          SequenceNumber: sequenceNumber,
          SizeBytes: 40,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      });
      return sequenceNumber;
    });
  }

  async describeStream(input: DescribeStreamCommandInput): Promise<DescribeStreamCommandOutput> {
    // One shard per page, so the poller has to follow LastEvaluatedShardId.
    const start = input.ExclusiveStartShardId
      ? this.shards.findIndex((shard) => shard.shardId === input.ExclusiveStartShardId) + 1
      : 0;
    const shard = this.shards[start];
    const more = start + 1 < this.shards.length;
    return {
      $metadata: {},
      StreamDescription: {
        StreamArn: fakeStreamArn,
        Shards: shard
          ? [
              {
                ShardId: shard.shardId,
                ...(shard.parentShardId ? { ParentShardId: shard.parentShardId } : {}),
                SequenceNumberRange: {},
              },
            ]
          : [],
        ...(more && shard ? { LastEvaluatedShardId: shard.shardId } : {}),
      },
    };
  }

  async getShardIterator(input: GetShardIteratorCommandInput): Promise<GetShardIteratorCommandOutput> {
    const shard = this.shard(input.ShardId ?? '');
    let position = 0;
    if (input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER') {
      position =
        shard.records.findIndex((record) => record.dynamodb?.SequenceNumber === input.SequenceNumber) + 1;
      if (position === 0) throw awsError('ValidationException', 'unknown sequence number');
    }
    return { $metadata: {}, ShardIterator: `${shard.shardId}|${position}` };
  }

  async getRecords(input: GetRecordsCommandInput): Promise<GetRecordsCommandOutput> {
    this.getRecordsCalls++;
    if (this.expireNextReads > 0) {
      this.expireNextReads--;
      throw awsError('ExpiredIteratorException', 'Iterator expired');
    }
    const [shardId, positionText] = (input.ShardIterator ?? '').split('|');
    const shard = this.shard(shardId ?? '');
    const position = Number(positionText);
    const records = shard.records.slice(position, position + (input.Limit ?? 1000));
    const next = position + records.length;
    const ended = shard.closed && next >= shard.records.length;
    return {
      $metadata: {},
      Records: records,
      ...(ended ? {} : { NextShardIterator: `${shard.shardId}|${next}` }),
    };
  }

  private shard(shardId: string): FakeShard {
    const shard = this.shards.find((candidate) => candidate.shardId === shardId);
    if (!shard) throw awsError('ResourceNotFoundException', `no shard ${shardId}`);
    return shard;
  }
}

/** A handler that records what it sees and answers as `behaviour` says. */
export function recordingHandler(
  behaviour: (
    event: WindowedStreamEvent,
    call: number,
  ) => StreamHandlerResult | Promise<StreamHandlerResult> = () => ({
    batchItemFailures: [],
  }),
) {
  const calls: WindowedStreamEvent[] = [];
  const succeeded: string[] = [];
  const handler = async (event: WindowedStreamEvent) => {
    calls.push(event);
    const result = await behaviour(event, calls.length);
    const failures = new Set((result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    // What counts as processed under the mapping's rules: records before the first failure.
    for (const record of event.Records) {
      const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
      if (failures.has(sequenceNumber)) break;
      succeeded.push(record.dynamodb?.Keys?.executionId?.S ?? '?');
    }
    return result;
  };
  return { handler, calls, succeeded };
}

export const idsOf = (event: WindowedStreamEvent) =>
  event.Records.map((record) => record.dynamodb?.Keys?.executionId?.S);
export const sequenceOf = (event: WindowedStreamEvent, index: number) =>
  event.Records[index]?.dynamodb?.SequenceNumber ?? '';
