/**
 * A small HTTP/1.1 client for the reliability suites, on node:http with a
 * keep-alive agent. Unlike fetch it sends exactly what it is given: any
 * method, a raw (unnormalised) path, raw body bytes. Traffic goes to
 * 127.0.0.1 only.
 */
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';

export interface HttpRequest {
  readonly method: string;
  /** Raw request target, e.g. `/api/summary?from=2026-01-01`; sent as is. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** @default 30000 */
  readonly timeoutMs?: number;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Time from sending the request to the end of the response body. */
  readonly latencyMs: number;
}

/** A connection-level failure: refused, reset, timed out. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly port: number;

  constructor(baseUrl: string, options: { maxSockets?: number } = {}) {
    const url = new URL(baseUrl);
    if (url.hostname !== '127.0.0.1')
      throw new Error(`reliability traffic stays on 127.0.0.1, not ${url.hostname}`);
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  }

  send(input: HttpRequest): Promise<HttpAnswer> {
    const started = performance.now();
    return new Promise<HttpAnswer>((resolveAnswer, reject) => {
      const headers: Record<string, string | number> = { ...input.headers };
      if (input.body !== undefined) headers['content-length'] = Buffer.byteLength(input.body);
      const outgoing = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: input.method,
          path: input.path,
          headers,
          agent: this.agent,
          // Lets the suites send paths and header values Node would otherwise refuse.
          insecureHTTPParser: true,
        },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (part: Buffer) => parts.push(part));
          response.on('end', () =>
            resolveAnswer({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(parts).toString('utf8'),
              latencyMs: performance.now() - started,
            }),
          );
          response.on('error', (error: NodeJS.ErrnoException) =>
            reject(new ConnectionError(error.message, error.code)),
          );
        },
      );
      outgoing.setTimeout(input.timeoutMs ?? 30_000, () =>
        outgoing.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })),
      );
      outgoing.on('error', (error: NodeJS.ErrnoException) =>
        reject(new ConnectionError(error.message, error.code)),
      );
      if (input.body !== undefined) outgoing.write(input.body);
      outgoing.end();
    });
  }

  /** GET a JSON document; throws unless the answer is 200. */
  async getJson<T = unknown>(path: string): Promise<T> {
    const answer = await this.send({ method: 'GET', path });
    if (answer.status !== 200)
      throw new Error(`GET ${path} answered ${answer.status}: ${answer.body.slice(0, 500)}`);
    return JSON.parse(answer.body) as T;
  }

  /** POST a JSON value to /api/executions. */
  postRuns(body: unknown, timeoutMs?: number): Promise<HttpAnswer> {
    return this.send({
      method: 'POST',
      path: '/api/executions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface RetryOutcome {
  readonly answer: HttpAnswer;
  /** Attempts made, the successful one included. */
  readonly attempts: number;
  /** Statuses (or connection error codes) of the failed attempts. */
  readonly failures: readonly (number | string)[];
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * What a well-behaved agent does: POST, and on a 5xx or a connection error
 * wait (Retry-After when given, else exponential backoff) and POST the same
 * body again, until an answer below 500 or the deadline.
 */
export async function postWithRetry(
  client: HttpClient,
  body: unknown,
  options: { deadlineMs: number; baseDelayMs?: number; maxDelayMs?: number },
): Promise<RetryOutcome> {
  const failures: (number | string)[] = [];
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    let wait = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt - 1, 10));
    try {
      const answer = await client.postRuns(body, 20_000);
      if (answer.status < 500) return { answer, attempts: attempt, failures };
      failures.push(answer.status);
      const retryAfter = Number(answer.headers['retry-after']);
      if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.min(maxDelayMs, retryAfter * 1000);
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      failures.push(error.code ?? error.message);
    }
    if (Date.now() + wait > options.deadlineMs) {
      throw new Error(`POST still failing after ${attempt} attempts: ${failures.slice(-5).join(', ')}`);
    }
    await delay(wait * (0.5 + Math.random() / 2));
  }
}

/**
 * Writes raw bytes to the server and returns whatever comes back before the
 * connection closes or `timeoutMs` passes: for HTTP framing that no client
 * library would send (bad request lines, conflicting lengths, smuggling).
 */
export function sendRaw(port: number, bytes: string | Buffer, timeoutMs = 5_000): Promise<string> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.on('data', (part: Buffer) => parts.push(part));
    socket.on('close', () => done(Buffer.concat(parts).toString('utf8')));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.write(bytes);
  });
}

/** The last response in a raw answer (after any `100 Continue`): status, headers text and body. */
export function parseRawResponse(text: string): { status: number; head: string; body: string } | null {
  const start = text.lastIndexOf('HTTP/1.1 ');
  if (start < 0) return null;
  const rest = text.slice(start);
  const split = rest.indexOf('\r\n\r\n');
  const head = split < 0 ? rest : rest.slice(0, split);
  return { status: Number(head.slice(9, 12)), head, body: split < 0 ? '' : rest.slice(split + 4) };
}
