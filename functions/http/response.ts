import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A JSON response in API Gateway's HTTP API (payload 2.0) shape. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': JSON_CONTENT_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** A CSV download: the browser saves it as `filename`. */
export function csvResponse(
  body: string,
  filename: string,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 200,
    headers: {
      'content-type': CSV_CONTENT_TYPE,
      'content-disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'cache-control': 'no-store',
      ...headers,
    },
    body,
  };
}

/** A protobuf response (OTLP/HTTP answers in the encoding it was asked in); the body goes base64-encoded. */
export function protobufResponse(statusCode: number, body: Uint8Array): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/x-protobuf', 'cache-control': 'no-store' },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
}
