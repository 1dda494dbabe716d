/**
 * The local stand-in for API Gateway (HTTP API) and CloudFront + S3: one Node
 * HTTP server on 127.0.0.1 that
 * - turns /api requests into payload 2.0 events for the same handler modules
 *   that run in Lambda, and their results back into responses;
 * - serves the built dashboard (frontend/dist) at `/`.
 * Whatever arrives, it answers; a malformed request gets a 4xx JSON error.
 */
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { INGEST_PATH, QUERY_PATHS, TRACES_PATH } from '../functions/http/routes';
import {
  BadRequestTargetError,
  fromHandlerResult,
  type HttpResponseParts,
  lambdaContext,
  splitRequestTarget,
  toApiGatewayEvent,
} from './apigw-event.js';

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2<unknown>>;

export interface ApiHandlers {
  readonly ingest: HttpHandler;
  readonly query: HttpHandler;
}

export interface LocalHttpServerOptions {
  /** Handlers once the store is up; until then /api answers 503 `starting`. */
  getHandlers: () => ApiHandlers | undefined;
  /** The built dashboard; when absent a small page says how to build it. */
  getStaticRoot: () => string | undefined;
  /** Extra figures merged into a 200 of GET /api/health as `local` (poller status, dead letters); errors stay as they are. */
  getHealthExtras?: () => Record<string, unknown>;
  log?: (line: string) => void;
  /** How long a request body may take to arrive; @default bodyTimeoutMs */
  bodyTimeoutMs?: number;
}

/** API Gateway's HTTP API payload limit. The ingest handler enforces its own 1 MiB. */
const maxBodyBytes = 10 * 1024 * 1024;
/** API Gateway HTTP API: request line and headers up to 10 KiB. */
const maxUrlLength = 10_240;
/** Header fields a request may carry (Node parses 2,000 by default and drops the rest unseen). */
const maxHeaderFields = 2_000;
/**
 * A request body must arrive within this long from its headers; after it,
 * 408. The headers themselves have the same time (Node's headersTimeout).
 * Without it a body that trickles in holds a socket for Node's 300 s.
 */
const bodyTimeoutMs = 10_000;

/**
 * The names this server answers to: the loopback names, with any port (the
 * Vite dev server's proxy forwards its own `localhost:5173`). A page on
 * another site whose DNS name is made to point at 127.0.0.1 (DNS rebinding)
 * sends its own name, so it is refused before anything else is looked at.
 */
const ownHost = /^(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

function isOwnHost(host: string | undefined): boolean {
  return host !== undefined && ownHost.test(host);
}

const securityHeaders: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

function errorBody(error: string, message: string): string {
  return JSON.stringify({ error, message });
}

/** A JSON error written straight on the socket, for requests Node answers before any handler. */
function rawJsonError(
  socket: Socket,
  status: number,
  reason: string,
  code: string,
  message: string,
  extraHeaders = '',
): void {
  const body = errorBody(code, message);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n${extraHeaders}` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Answers a request the parser could not even read (or did not finish reading in time), straight on the socket. */
function answerClientError(error: NodeJS.ErrnoException & { bytesParsed?: number }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW')
    rawJsonError(
      socket,
      431,
      'Request Header Fields Too Large',
      'request_too_large',
      'the request line and headers exceed 64 KiB',
    );
  else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    rawJsonError(
      socket,
      408,
      'Request Timeout',
      'request_timeout',
      `the request did not arrive within ${bodyTimeoutMs / 1000} s`,
    );
  else
    rawJsonError(
      socket,
      400,
      'Bad Request',
      'bad_request',
      `malformed HTTP request (${error.code ?? 'parse error'})`,
    );
}

export function createLocalHttpServer(options: LocalHttpServerOptions): Server {
  const log = options.log ?? (() => {});
  const server = createServer(
    {
      maxHeaderSize: 64 * 1024,
      // A missing Host is answered by handleRequest, as JSON; Node's own answer is an empty 400.
      requireHostHeader: false,
      headersTimeout: bodyTimeoutMs,
      // How often Node looks for requests past headersTimeout (default 30 s).
      connectionsCheckingInterval: 1_000,
    },
    (request, response) => {
      handleRequest(request, response, options, log).catch((error) => {
        log(
          `http: unexpected error for ${request.method} ${request.url}: ${(error as Error).stack ?? error}`,
        );
        if (!response.headersSent)
          sendJson(response, 500, errorBody('internal_error', 'Internal Server Error'));
        else response.destroy();
      });
    },
  );
  // One more than the limit, so that a request over it can be told from one at it.
  server.maxHeadersCount = maxHeaderFields + 1;
  server.on('clientError', answerClientError);
  // Node answers an Expect it does not know with an empty 417 unless someone listens.
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    drainAndClose(request, response);
    sendJson(
      response,
      417,
      errorBody(
        'expectation_failed',
        `Expect: ${String(request.headers.expect).slice(0, 100)} is not supported`,
      ),
    );
  });
  // Node drops CONNECT (a proxy tunnel request) silently unless someone listens;
  // we are no proxy, but every request deserves a JSON answer.
  server.on('connect', (request: IncomingMessage, socket: Socket) => {
    rawJsonError(
      socket,
      405,
      'Method Not Allowed',
      'method_not_allowed',
      `CONNECT is not allowed on ${String(request.url).slice(0, 200)}`,
      'allow: GET, HEAD, POST\r\n',
    );
  });
  // Keep-alive sockets would otherwise hold stop() for their idle timeout.
  server.keepAliveTimeout = 5_000;
  return server;
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...securityHeaders,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

type Route =
  | { kind: 'api'; handler: keyof ApiHandlers; routeKey: string }
  | { kind: 'method-not-allowed'; allow: string }
  | { kind: 'not-found' }
  | { kind: 'static' };

/** Which handler serves a request, as the deployed API's routes and CloudFront behaviours decide. */
function routeFor(method: string, rawPath: string): Route {
  if (rawPath === TRACES_PATH) {
    return method === 'POST'
      ? { kind: 'api', handler: 'ingest', routeKey: `POST ${TRACES_PATH}` }
      : { kind: 'method-not-allowed', allow: 'POST' };
  }
  const isApi = rawPath === '/api' || rawPath.startsWith('/api/');
  if (!isApi)
    return method === 'GET' || method === 'HEAD'
      ? { kind: 'static' }
      : { kind: 'method-not-allowed', allow: 'GET, HEAD' };
  if (rawPath === INGEST_PATH) {
    return method === 'POST'
      ? { kind: 'api', handler: 'ingest', routeKey: `POST ${INGEST_PATH}` }
      : { kind: 'method-not-allowed', allow: 'POST' };
  }
  // Like the deployed HTTP API, which lists its routes: anything else is a 404 there.
  if (!QUERY_PATHS.includes(rawPath)) return { kind: 'not-found' };
  if (method === 'GET' || method === 'HEAD')
    return { kind: 'api', handler: 'query', routeKey: `GET ${rawPath}` };
  return { kind: 'method-not-allowed', allow: 'GET, HEAD' };
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: LocalHttpServerOptions,
  log: (line: string) => void,
): Promise<void> {
  const url = request.url ?? '/';
  const method = (request.method ?? 'GET').toUpperCase();
  const refusal = refusedAtTheEdge(request);
  if (refusal) {
    drainAndClose(request, response);
    sendJson(response, refusal.status, errorBody(refusal.code, refusal.message));
    return;
  }
  if (url.length > maxUrlLength) {
    drainAndClose(request, response);
    sendJson(
      response,
      414,
      errorBody('uri_too_long', `the URL is ${url.length} characters; the limit is ${maxUrlLength}`),
    );
    return;
  }
  let rawPath: string;
  try {
    rawPath = splitRequestTarget(url).rawPath;
  } catch (error) {
    drainAndClose(request, response);
    sendJson(response, 400, errorBody('bad_request', (error as Error).message));
    return;
  }
  const route = routeFor(method, rawPath);
  if (route.kind === 'method-not-allowed') {
    drainAndClose(request, response);
    sendJson(
      response,
      405,
      errorBody(
        'method_not_allowed',
        `${method} is not allowed on ${rawPath.slice(0, 200)}; use ${route.allow}`,
      ),
      {
        allow: route.allow,
      },
    );
    return;
  }
  if (route.kind === 'not-found') {
    drainAndClose(request, response);
    sendJson(response, 404, errorBody('not_found', `no endpoint ${rawPath.slice(0, 200)}`));
    return;
  }
  if (route.kind === 'static') {
    request.resume();
    await serveStatic(rawPath, method, request, response, options.getStaticRoot());
    return;
  }

  const declaredLength = Number(request.headers['content-length'] ?? 0);
  if (declaredLength > maxBodyBytes) {
    drainAndClose(request, response);
    sendJson(
      response,
      413,
      errorBody('payload_too_large', `the body is ${declaredLength} bytes; the limit is ${maxBodyBytes}`),
    );
    return;
  }
  const timeoutMs = options.bodyTimeoutMs ?? bodyTimeoutMs;
  const body = await readBody(request, maxBodyBytes, timeoutMs);
  if (body === 'too-large') {
    drainAndClose(request, response);
    sendJson(response, 413, errorBody('payload_too_large', `the body exceeds ${maxBodyBytes} bytes`));
    return;
  }
  if (body === 'timeout') {
    drainAndClose(request, response);
    sendJson(
      response,
      408,
      errorBody(
        'request_timeout',
        `the body did not arrive within ${timeoutMs / 1000} s; send it at once, with its content-length`,
      ),
    );
    return;
  }
  if (body === 'aborted') return;

  const handlers = options.getHandlers();
  if (!handlers) {
    sendJson(
      response,
      503,
      errorBody('starting', 'the local runtime is still starting; try again in a moment'),
      {
        'retry-after': '1',
      },
    );
    return;
  }
  const requestId = randomUUID();
  const startedAt = Date.now();
  let event: APIGatewayProxyEventV2;
  try {
    event = toApiGatewayEvent({
      // HEAD is GET without the body: the handler answers GET, the body is dropped below.
      method: method === 'HEAD' ? 'GET' : method,
      url,
      rawHeaders: request.rawHeaders,
      body,
      sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      requestId,
      now: new Date(startedAt),
      routeKey: route.routeKey,
      httpVersion: request.httpVersion,
    });
  } catch (error) {
    if (!(error instanceof BadRequestTargetError)) throw error;
    sendJson(response, 400, errorBody('invalid_query', error.message));
    return;
  }

  let result: HttpResponseParts;
  try {
    const output = await handlers[route.handler](
      event,
      lambdaContext(`local-${route.handler}`, requestId, startedAt),
    );
    result = fromHandlerResult(output);
  } catch (error) {
    // What API Gateway answers when the function fails; a bug, so say so loudly.
    log(`http: ${route.handler} handler threw on ${method} ${rawPath}: ${(error as Error).stack ?? error}`);
    sendJson(response, 500, errorBody('internal_error', 'Internal Server Error'), {
      'x-amzn-requestid': requestId,
    });
    return;
  }
  // 503 is the handlers' deliberate "store busy, retry" answer; anything else 5xx is a bug worth a log line.
  if (result.statusCode >= 500 && result.statusCode !== 503)
    log(
      `http: ${method} ${rawPath} answered ${result.statusCode}: ${result.body.toString('utf8').slice(0, 500)}`,
    );

  if (route.routeKey === 'GET /api/health' && result.statusCode === 200 && options.getHealthExtras)
    result = withHealthExtras(result, options.getHealthExtras());

  const headers: Record<string, string | string[]> = {
    ...securityHeaders,
    ...result.headers,
    'content-length': String(result.body.length),
    'x-amzn-requestid': requestId,
  };
  if (result.cookies.length > 0) headers['set-cookie'] = [...result.cookies];
  response.writeHead(result.statusCode, headers);
  response.end(method === 'HEAD' ? undefined : result.body);
}

/** Adds the runtime's own figures to the health answer, as `local`. */
function withHealthExtras(result: HttpResponseParts, extras: Record<string, unknown>): HttpResponseParts {
  try {
    const parsed: unknown = JSON.parse(result.body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return result;
    return { ...result, body: Buffer.from(JSON.stringify({ ...parsed, local: extras }), 'utf8') };
  } catch {
    return result;
  }
}

type BodyOutcome = Buffer | 'too-large' | 'timeout' | 'aborted';

function readBody(request: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyOutcome> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (value: BodyOutcome) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done(value);
    };
    const timer = setTimeout(() => {
      chunks.length = 0;
      finish('timeout');
    }, timeoutMs);
    request.on('data', (chunk: Buffer) => {
      if (finished) return;
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        finish('too-large');
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => finish(Buffer.concat(chunks)));
    request.on('error', () => finish('aborted'));
    request.on('aborted', () => finish('aborted'));
  });
}

/**
 * What is refused whatever the path: a request without Host or with another
 * host's name (DNS rebinding), or with more header fields than the limit.
 */
function refusedAtTheEdge(
  request: IncomingMessage,
): { status: number; code: string; message: string } | undefined {
  if (request.rawHeaders.length / 2 > maxHeaderFields)
    return {
      status: 431,
      code: 'request_too_large',
      message: `the request has more than ${maxHeaderFields} header fields`,
    };
  const host = request.headers.host;
  if (host === undefined || host === '')
    return { status: 400, code: 'bad_request', message: 'the request has no Host header' };
  if (!isOwnHost(host))
    return {
      status: 421,
      code: 'misdirected_request',
      message: `Host "${host.slice(0, 100)}" is not this server; use localhost or 127.0.0.1 (with the port)`,
    };
  return undefined;
}

/**
 * After an early answer, stop reading the request and close the connection
 * once the answer is out, instead of receiving a body we will not use.
 */
function drainAndClose(request: IncomingMessage, response: ServerResponse): void {
  response.setHeader('connection', 'close');
  response.on('finish', () => {
    if (!request.complete) request.socket.destroySoon();
  });
  request.resume();
}

// ---- the dashboard ------------------------------------------------------------

const missingDashboardPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fixer Agent Metrics</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto">
<h1>Fixer Agent Metrics</h1><p>The dashboard is not built (frontend/ is missing or its build failed; see the terminal).
The API works: try <a href="/api/health">/api/health</a> and <a href="/api/summary">/api/summary</a>.</p></body></html>`;

/** Maps a URL path to a file under root, or undefined when it would leave root. */
export function staticFilePath(root: string, rawPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const relative = normalize(decoded).replace(/^([/\\])+/, '');
  if (relative.split(/[/\\]/).includes('..')) return undefined;
  const absoluteRoot = resolve(root);
  const file = resolve(absoluteRoot, relative);
  return file === absoluteRoot || file.startsWith(absoluteRoot + sep) ? file : undefined;
}

async function serveStatic(
  rawPath: string,
  method: string,
  request: IncomingMessage,
  response: ServerResponse,
  root: string | undefined,
): Promise<void> {
  if (!root) {
    const body = Buffer.from(missingDashboardPage, 'utf8');
    response.writeHead(200, {
      ...securityHeaders,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    });
    response.end(method === 'HEAD' ? undefined : body);
    return;
  }
  let file = staticFilePath(root, rawPath);
  let info = file ? await stat(file).catch(() => undefined) : undefined;
  if (!file || !info?.isFile()) {
    // As CloudFront's error response does for the single-page app: unknown paths get index.html.
    file = join(root, 'index.html');
    info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      sendJson(response, 404, errorBody('not_found', `${rawPath.slice(0, 200)} not found`));
      return;
    }
  }
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const immutable = rawPath.startsWith('/assets/') && file !== join(root, 'index.html');
  const headers = {
    ...securityHeaders,
    'content-type': contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream',
    // Vite fingerprints everything under assets/; index.html must be revalidated to pick up new builds.
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    etag,
    'last-modified': info.mtime.toUTCString(),
  };
  if (request.headers['if-none-match'] === etag) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  const body = await readFile(file);
  response.writeHead(200, { ...headers, 'content-length': String(body.length) });
  response.end(method === 'HEAD' ? undefined : body);
}
