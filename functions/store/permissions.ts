/**
 * What each function's role may do: one typed table of actions × resources per
 * function. The CDK stack turns it into IAM statements (lib/constructs/
 * house-function.ts `grant`), and the local runtime refuses every SDK call a
 * function makes outside it (local/permission-guard.ts), so a missing grant
 * fails `npm test` the way it would fail in AWS, not in production.
 *
 * Plain data on purpose: read by both the CDK app and the handlers' runtime.
 */
import { aggregatesTable, executionsTable } from './tables';

/** A deployed Lambda function of this stack, by its construct id. */
export type FunctionName = 'ingest' | 'query' | 'aggregate' | 'audit';

/** A table by its logical name (tables.ts); the deployed name is CloudFormation's. */
export type TableName = typeof executionsTable.logicalName | typeof aggregatesTable.logicalName;

type DynamoAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem';

/** One statement: these actions on this resource, nothing else. */
export type Grant =
  | { readonly actions: readonly DynamoAction[]; readonly table: TableName; readonly index?: string }
  /** DescribeAlarms on the success-rate alarm, which GET /api/alarm reports. */
  | { readonly actions: readonly ['cloudwatch:DescribeAlarms']; readonly alarm: 'successRate' };

const [byStartTime] = executionsTable.globalSecondaryIndexes;

/**
 * Every grant of every function. The aggregate function's stream read is not
 * here: the Lambda event source mapping reads the stream, not the handler.
 */
export const functionPermissions: Readonly<Record<FunctionName, readonly Grant[]>> = {
  // A conditional PutItem alone tells a new run, a duplicate and a correction apart.
  // PutItem stores runs; GetItem reads the spans of a trace that wait for the rest of it.
  ingest: [{ actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], table: executionsTable.logicalName }],
  query: [
    // Query reads series ranges; BatchGetItem reads the edge hours of a local day.
    {
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
      table: aggregatesTable.logicalName,
    },
    // Drill-down reads runs through the time index only, never the base table.
    { actions: ['dynamodb:Query'], table: executionsTable.logicalName, index: byStartTime.indexName },
    { actions: ['cloudwatch:DescribeAlarms'], alarm: 'successRate' },
  ],
  // Counters are ADDed with UpdateItem (under a watermark condition); PutItem
  // writes whole items. No reads, no deletes.
  aggregate: [{ actions: ['dynamodb:UpdateItem', 'dynamodb:PutItem'], table: aggregatesTable.logicalName }],
  // Reads only: a day's runs through the time index, the day's aggregate items
  // and the model list by Query. It reports differences; the rebuild repairs them.
  audit: [
    { actions: ['dynamodb:Query'], table: aggregatesTable.logicalName },
    { actions: ['dynamodb:Query'], table: executionsTable.logicalName, index: byStartTime.indexName },
  ],
};

/** What a call asks for: one action on one table (or one of its indexes). */
export interface RequestedAccess {
  readonly action: string;
  readonly table: string;
  readonly index?: string;
}

/** Whether `grants` allow `request`, by IAM's rule: a table grant does not cover its indexes. */
export function isAllowed(grants: readonly Grant[], request: RequestedAccess): boolean {
  return grants.some(
    (grant) =>
      'table' in grant &&
      grant.table === request.table &&
      grant.index === request.index &&
      (grant.actions as readonly string[]).includes(request.action),
  );
}
