/**
 * SDK clients, built once per container. Retries are ours (./retry.ts), so
 * the SDK makes a single attempt per call and never hides a throttle.
 * Endpoints come from the standard AWS_ENDPOINT_URL_* variables, which is how
 * the local runtime points them at DynamoDB Local.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const dynamodb = new DynamoDBClient({ maxAttempts: 1 });

export const documentClient = DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: { removeUndefinedValues: true },
});
