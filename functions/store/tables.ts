/**
 * The two DynamoDB tables, as plain data. The CDK stack (lib/constructs/data-tables.ts) and the
 * local runtime (local/dynamodb-local.ts) both build their tables from these
 * definitions, so the shape deployed and the shape tested cannot drift apart.
 *
 * No AWS SDK or CDK import here on purpose: this module is read by both worlds.
 */

export type AttributeType = 'S' | 'N';

export interface KeyDefinition {
  readonly partitionKey: { readonly name: string; readonly type: AttributeType };
  readonly sortKey?: { readonly name: string; readonly type: AttributeType };
}

export interface IndexDefinition extends KeyDefinition {
  readonly indexName: string;
  /** Attributes projected besides the keys; `ALL` copies the whole item. */
  readonly projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableDefinition extends KeyDefinition {
  /** Logical name; the deployed table name is chosen by CloudFormation. */
  readonly logicalName: string;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  readonly stream?: 'NEW_AND_OLD_IMAGES';
  /** Attribute holding an epoch-seconds expiry for DynamoDB TTL. */
  readonly timeToLiveAttribute?: string;
}

/**
 * Executions: one item per run, keyed by executionId (the idempotency key).
 *
 * The `byStartTime` index serves drill-down (GET /api/runs) newest first
 * without a table scan. Its partition key `startShard` is the UTC day the run
 * started and one of RUN_INDEX_SHARDS write shards picked by a hash of the
 * executionId (`2026-11-01#7`, see run-item.ts), so a day's writes spread
 * over that many partitions instead of one; its sort key `startKey` is
 * `<startTime UTC ms>#<executionId>` so that ordering is total and a cursor is
 * stable under concurrent writes. Readers merge the shards (runs-reader.ts);
 * the throughput math is in docs/RUNS.md.
 */
export const executionsTable = {
  logicalName: 'Executions',
  partitionKey: { name: 'executionId', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'byStartTime',
      partitionKey: { name: 'startShard', type: 'S' },
      sortKey: { name: 'startKey', type: 'S' },
      projection: 'ALL',
    },
  ],
  stream: 'NEW_AND_OLD_IMAGES',
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDefinition;

/**
 * Aggregates: counters maintained by the stream handler.
 *
 * `pk` names a series (granularity, kind, model, status) and `sk` is the bucket
 * start, so one Query with `sk BETWEEN` reads a whole time range of one series.
 * The number of items a dashboard request reads therefore depends on the range,
 * the granularity and the number of models, never on the number of runs.
 * See functions/store/aggregate-keys.ts for the exact key layout.
 */
export const aggregatesTable = {
  logicalName: 'Aggregates',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [],
} as const satisfies TableDefinition;

export const tableDefinitions = [executionsTable, aggregatesTable] as const;
