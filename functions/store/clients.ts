/**
 * SDK clients, built once per container. Retries are ours (./retry.ts), so
 * the SDK makes a single attempt per call and never hides a throttle.
 * Endpoints come from the standard AWS_ENDPOINT_URL_* variables, which is how
 * the local runtime points them at DynamoDB Local.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const dynamodb = new DynamoDBClient({ maxAttempts: 1 });
// The SDK's logger middleware builds a redacted copy of every response for
// its logger, even the default no-op one: walking the ~1,000 attribute maps
// of a dashboard read took a third of the query handler's CPU. We log
// ourselves (Powertools), so it goes.
dynamodb.middlewareStack.remove('loggerMiddleware');

export const documentClient = DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: { removeUndefinedValues: true },
});
