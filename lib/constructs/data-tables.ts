import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  type AttributeType,
  aggregatesTable,
  executionsTable,
  type TableDefinition,
} from '../../functions/store/tables';

/** Props of {@link DataTables}. */
export interface DataTablesProps {
  /**
   * Keep the tables when the stack is deleted, and refuse to delete them at all
   * (DynamoDB deletion protection) until someone turns that off on purpose.
   * @default false
   */
  readonly protectData?: boolean;
}

/**
 * The Executions and Aggregates tables, built from the same plain definitions
 * (functions/store/tables.ts) that the local runtime uses, so the deployed and
 * the tested shape cannot drift apart.
 */
export class DataTables extends Construct {
  public readonly executions: dynamodb.Table;
  public readonly aggregates: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataTablesProps = {}) {
    super(scope, id);
    this.executions = buildTable(this, 'executions', executionsTable, props);
    this.aggregates = buildTable(this, 'aggregates', aggregatesTable, props);
  }
}

function attribute(key: { readonly name: string; readonly type: AttributeType }): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}

function buildTable(
  scope: Construct,
  id: string,
  definition: TableDefinition,
  props: DataTablesProps,
): dynamodb.Table {
  const protect = props.protectData ?? false;
  const table = new dynamodb.Table(scope, id, {
    partitionKey: attribute(definition.partitionKey),
    sortKey: definition.sortKey ? attribute(definition.sortKey) : undefined,
    // Agent traffic is bursty and small; on-demand has no idle cost and no capacity to tune.
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // AWS-managed KMS key: encrypted at rest with key use logged in CloudTrail,
    // without a customer key whose policy or scheduled deletion could lock the
    // data away. Access is governed by IAM on the table either way.
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    stream:
      definition.stream === 'NEW_AND_OLD_IMAGES' ? dynamodb.StreamViewType.NEW_AND_OLD_IMAGES : undefined,
    timeToLiveAttribute: definition.timeToLiveAttribute,
    deletionProtection: protect,
    removalPolicy: protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  for (const index of definition.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: index.sortKey ? attribute(index.sortKey) : undefined,
      projectionType:
        index.projection === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
    });
  }
  return table;
}
