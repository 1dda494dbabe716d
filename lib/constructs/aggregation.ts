import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECORD_AGE_SECONDS } from '../../functions/domain/record-age';
import { STREAM_BATCH_SIZE } from '../../functions/domain/stream-batch';
import { functionPermissions } from '../../functions/store/permissions';
import { functionEntry } from '../paths';
import { HouseFunction } from './house-function';

/** Props of {@link Aggregation}. */
export interface AggregationProps {
  /** The Executions table; its stream feeds the function. */
  readonly executions: dynamodb.ITable;
  readonly aggregates: dynamodb.ITable;
  readonly logRetention: logs.RetentionDays;
  /** What happens to the function's logs when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
  /** The `Stage` dimension of the metrics the function emits. */
  readonly stage: string;
  /** MaximumBatchingWindowInSeconds of the stream mapping (MetricsConfig.streamBatchingWindowSeconds). */
  readonly batchingWindowSeconds: number;
}

/**
 * The aggregate function on the Executions stream, with the delivery settings
 * that make exactly-once counters possible, and the dead-letter queue that
 * catches what it could not process.
 */
export class Aggregation extends Construct {
  public readonly aggregateFunction: HouseFunction;
  /** Receives the metadata of stream batches that exhausted their retries. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AggregationProps) {
    super(scope, id);

    this.aggregateFunction = new HouseFunction(this, 'aggregate', {
      entry: functionEntry('aggregate'),
      description:
        'Executions stream: exactly-once counters in the Aggregates table and CloudWatch metrics (EMF)',
      stage: props.stage,
      memorySize: 512,
      timeout: Duration.seconds(60),
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: { AGGREGATES_TABLE_NAME: props.aggregates.tableName },
    });
    this.aggregateFunction.grantFromDefinition(functionPermissions.aggregate, {
      tables: { Executions: props.executions.tableArn, Aggregates: props.aggregates.tableArn },
    });

    this.deadLetterQueue = new sqs.Queue(this, 'stream-dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The maximum: someone has to read the failed batch's shard and sequence
      // numbers and replay it before the message disappears.
      retentionPeriod: Duration.days(14),
    });

    // The event source grants the stream read (DescribeStream, GetRecords,
    // GetShardIterator on the stream, ListStreams) and SendMessage on the DLQ.
    this.aggregateFunction.addEventSource(
      new DynamoEventSource(props.executions, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: STREAM_BATCH_SIZE,
        // 1 s by default: runs counted about a second after they are stored.
        // 0 invokes as soon as a poll finds records (fresher, several times
        // the writes per run); longer fills batches at low traffic per shard,
        // for fewer writes per run (ADR 0001, "Requests per run").
        maxBatchingWindow: Duration.seconds(props.batchingWindowSeconds),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 5,
        // Below the stream's 24 h retention, so a stuck record reaches the DLQ
        // while it can still be read; the writer removes watermarks older than
        // it (plus a margin), so both read the one definition.
        maxRecordAge: Duration.seconds(MAX_RECORD_AGE_SECONDS),
        // Required: exactly-once rests on a per-(aggregate item, shard)
        // sequence-number watermark, which holds only if one invocation at a
        // time processes a shard, in order.
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.deadLetterQueue),
        // Not used for windowed state: a tumbling window is what makes Lambda
        // put `shardId` into the stream event, and the watermark is keyed by it.
        tumblingWindow: Duration.seconds(900),
      }),
    );
  }
}
