/**
 * The ingest handler with a mocked DynamoDB, for handler tests: env set before
 * the handler module loads, retries without sleeping, and a `post` helper that
 * returns the status, headers and parsed body.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { httpEvent, lambdaContext } from '../../support/events';

Object.assign(process.env, {
  EXECUTIONS_TABLE_NAME: 'Executions',
  RAW_RETENTION_DAYS: '90',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_LOG_LEVEL: 'INFO',
});

/** mockClient on the class stubs `send` of every instance, the handler's module-scope client included. */
export const dynamo = mockClient(DynamoDBDocumentClient);

const { createIngestHandler } = await import('../../../functions/ingest');

/** The EMF lines the handler emitted; tests empty it as they need. */
export const emfLines: string[] = [];

/** Retries at once: tests assert behaviour, never timing. */
export const handler = createIngestHandler({
  retry: { sleep: async () => undefined },
  emfSink: (line) => void emfLines.push(line),
});

export interface PostOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly base64?: boolean;
  /** Sent as the raw body; otherwise `body` is JSON-encoded. */
  readonly raw?: string;
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: a parsed response body is inspected freely in tests
  readonly body: any;
}

export function ingestEvent(body: unknown, options: PostOptions = {}): APIGatewayProxyEventV2 {
  const text = options.raw ?? JSON.stringify(body);
  const event = httpEvent(options.method ?? 'POST', '/api/executions', {
    body: text,
    headers: options.headers,
  });
  if (options.base64) {
    event.body = Buffer.from(text, 'utf8').toString('base64');
    event.isBase64Encoded = true;
  }
  return event;
}

export async function invoke(event: APIGatewayProxyEventV2): Promise<Answer> {
  const result = await handler(event, lambdaContext);
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: JSON.parse(result.body ?? 'null'),
  };
}

export function post(body: unknown, options: PostOptions = {}): Promise<Answer> {
  return invoke(ingestEvent(body, options));
}
