/**
 * Builders for the Lambda events our handlers receive, shared by the tests.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test',
  memoryLimitInMB: '256',
  awsRequestId: 'test-request',
  logGroupName: 'test',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

export function httpEvent(
  method: string,
  path: string,
  options: { body?: string; query?: Record<string, string>; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const query = options.query ?? {};
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { 'content-type': 'application/json', ...options.headers },
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: options.body,
    isBase64Encoded: false,
  };
}

/** A valid execution record, with overrides. */
export function runRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    executionId: `run-${Math.random().toString(36).slice(2)}`,
    startTime: '2026-11-01T10:00:00Z',
    endTime: '2026-11-01T10:02:30Z',
    status: 'success',
    model: 'claude-sonnet-4',
    inputTokens: 1200,
    outputTokens: 300,
    cacheReadTokens: 800,
    cacheWriteTokens: 100,
    costUsd: 0.012345,
    llmCalls: 6,
    toolCalls: 9,
    filesModified: 2,
    ...overrides,
  };
}
