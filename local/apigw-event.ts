/**
 * HTTP requests as API Gateway HTTP API (payload format 2.0) events, and
 * handler results back as HTTP responses. Pure functions: the server in
 * http-server.ts does the I/O.
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

/** The parts of an incoming request that an API Gateway event is built from. */
export interface IncomingRequestParts {
  readonly method: string;
  /** The request target as received: path and query string, still URL-encoded. */
  readonly url: string;
  /** Node's `req.rawHeaders`: names and values alternating, in arrival order. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly requestId: string;
  readonly now: Date;
  /** `$default` route keys as in the deployed API, e.g. `GET /api/summary`. */
  readonly routeKey: string;
  readonly httpVersion?: string;
}

export class BadRequestTargetError extends Error {
  override name = 'BadRequestTargetError';
}

const textContentType =
  /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|x-www-form-urlencoded|graphql)\b)/i;

/**
 * API Gateway passes text bodies as they are and base64-encodes everything
 * else (binary media, or no content type at all).
 */
export function isTextContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && textContentType.test(contentType.trim());
}

/** Splits the request target into path and raw query; rejects targets that are not origin-form paths. */
export function splitRequestTarget(url: string): { rawPath: string; rawQueryString: string } {
  if (!url.startsWith('/')) throw new BadRequestTargetError('request target must be a path starting with /');
  const queryStart = url.indexOf('?');
  const withoutFragment = (text: string) => {
    const hash = text.indexOf('#');
    return hash < 0 ? text : text.slice(0, hash);
  };
  if (queryStart < 0) return { rawPath: withoutFragment(url), rawQueryString: '' };
  return { rawPath: url.slice(0, queryStart), rawQueryString: withoutFragment(url.slice(queryStart + 1)) };
}

function decodeQueryComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new BadRequestTargetError(`query string is not valid URL encoding near "${text.slice(0, 40)}"`);
  }
}

/**
 * Decoded query parameters; a name given more than once gets its values
 * joined with commas, as API Gateway does. Undefined when there is no query.
 */
export function parseQueryStringParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  // No prototype: a parameter named __proto__ must stay a plain key.
  const parameters: Record<string, string> = Object.create(null);
  for (const pair of rawQueryString.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodeQueryComponent(equals < 0 ? pair : pair.slice(0, equals));
    const value = decodeQueryComponent(equals < 0 ? '' : pair.slice(equals + 1));
    const existing = parameters[name];
    parameters[name] = existing === undefined ? value : `${existing},${value}`;
  }
  return Object.keys(parameters).length > 0 ? { ...parameters } : undefined;
}

/**
 * Lower-cased header names, repeated headers joined with commas; cookies move
 * to their own list, as in payload format 2.0.
 */
export function collectHeaders(rawHeaders: readonly string[]): {
  headers: Record<string, string>;
  cookies: string[];
} {
  const headers: Record<string, string> = Object.create(null);
  const cookies: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = (rawHeaders[index] ?? '').toLowerCase();
    const value = rawHeaders[index + 1] ?? '';
    if (name === 'cookie') {
      for (const cookie of value.split(';')) if (cookie.trim() !== '') cookies.push(cookie.trim());
      continue;
    }
    const existing = headers[name];
    headers[name] = existing === undefined ? value : `${existing},${value}`;
  }
  return { headers: { ...headers }, cookies };
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's `requestContext.time`: `12/Mar/2020:19:03:58 +0000`. */
export function apiGatewayTime(date: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

const localApiId = 'local';
const localAccountId = '000000000000';

export function toApiGatewayEvent(request: IncomingRequestParts): APIGatewayProxyEventV2 {
  const { rawPath, rawQueryString } = splitRequestTarget(request.url);
  const queryStringParameters = parseQueryStringParameters(rawQueryString);
  const { headers, cookies } = collectHeaders(request.rawHeaders);
  const host = headers.host ?? '127.0.0.1';
  const domainName = host.replace(/:\d+$/, '');
  // Headers API Gateway adds in front of the integration.
  headers['x-forwarded-for'] = request.sourceIp;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = /:(\d+)$/.exec(host)?.[1] ?? '80';
  const hasBody = request.body.length > 0;
  // A text body goes over as a string only when it is valid UTF-8; otherwise
  // its bytes go base64-encoded, so the handler's strict decoder sees exactly
  // what the client sent (a string would already have U+FFFD in place of them).
  const text = isTextContentType(headers['content-type']) && isUtf8(request.body);
  return {
    version: '2.0',
    routeKey: request.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: localAccountId,
      apiId: localApiId,
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: request.method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion ?? '1.1'}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: request.requestId,
      routeKey: request.routeKey,
      stage: '$default',
      time: apiGatewayTime(request.now),
      timeEpoch: request.now.getTime(),
    },
    ...(hasBody ? { body: text ? request.body.toString('utf8') : request.body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !text,
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A Lambda context for one invocation, with the deadline API Gateway's 30 s integration timeout sets. */
export function lambdaContext(
  functionName: string,
  requestId: string,
  startedAt: number,
  timeoutMs = 29_000,
): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${localAccountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, startedAt + timeoutMs - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export interface HttpResponseParts {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly cookies: readonly string[];
  readonly body: Buffer;
}

/**
 * A handler's result as API Gateway turns it into a response: a structured
 * result is used as is; a string, or an object without `statusCode`, becomes
 * a 200 JSON body.
 */
export function fromHandlerResult(result: APIGatewayProxyResultV2<unknown>): HttpResponseParts {
  const structured = result as APIGatewayProxyStructuredResultV2 | undefined;
  if (
    typeof result === 'string' ||
    result === undefined ||
    result === null ||
    structured?.statusCode === undefined
  ) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from(body, 'utf8'),
    };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  const rawBody = structured.body ?? '';
  return {
    statusCode: structured.statusCode,
    headers,
    cookies: structured.cookies ?? [],
    body: structured.isBase64Encoded ? Buffer.from(rawBody, 'base64') : Buffer.from(rawBody, 'utf8'),
  };
}
