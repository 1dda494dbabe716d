import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalHttpServer, type HttpHandler, staticFilePath } from '../../../local/http-server';

const received: APIGatewayProxyEventV2[] = [];
const echo: HttpHandler = async (event) => {
  received.push(event);
  if (event.rawPath === '/api/health' && event.queryStringParameters?.to)
    return {
      statusCode: 400,
      headers: { 'content-type': 'application/json' },
      body: '{"error":"invalid_query","message":"to is outside"}',
    };
  if (event.rawPath === '/api/health')
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' };
  if (event.headers['x-test-fail'] === 'throw') throw new Error('handler bug');
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: ['session=1'],
    body: JSON.stringify({
      path: event.rawPath,
      query: event.queryStringParameters ?? null,
      body: event.body ?? null,
    }),
  };
};

let server: Server;
let baseUrl: string;
let staticRoot: string;

beforeAll(async () => {
  staticRoot = mkdtempSync(join(tmpdir(), 'dist-'));
  mkdirSync(join(staticRoot, 'assets'));
  writeFileSync(join(staticRoot, 'index.html'), '<!doctype html><title>dashboard</title>');
  writeFileSync(join(staticRoot, 'assets', 'index-abc123.js'), 'console.log(1)');
  server = createLocalHttpServer({
    getHandlers: () => ({ ingest: echo, query: echo }),
    getStaticRoot: () => staticRoot,
    getHealthExtras: () => ({ deadLetters: [] }),
    bodyTimeoutMs: 1_000,
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
  rmSync(staticRoot, { recursive: true, force: true });
});

/**
 * Sends bytes as they are (fetch would normalise a malformed request); with
 * `keepOpen` the request is not ended, as a client that stalls mid-body.
 */
function rawRequest(text: string, keepOpen = false): Promise<string> {
  return new Promise((done, reject) => {
    const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    socket.on('close', () => done(answer));
    socket.on('error', reject);
    if (keepOpen) socket.write(text);
    else socket.end(text);
  });
}

describe('local HTTP server', () => {
  it('routes POST /api/executions to ingest with the body as text, and answers what the handler returns', async () => {
    const response = await fetch(`${baseUrl}/api/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toBe('session=1');
    expect(await response.json()).toEqual({ path: '/api/executions', query: null, body: '{"a":1}' });
    expect(received.at(-1)?.routeKey).toBe('POST /api/executions');
  });

  it('adds the runtime figures to a 200 of GET /api/health as "local", not to an error', async () => {
    const response = await fetch(`${baseUrl}/api/health`);
    expect(await response.json()).toEqual({ status: 'ok', local: { deadLetters: [] } });
    const refused = await fetch(`${baseUrl}/api/health?to=9999-12-31`);
    expect(await refused.json()).toEqual({ error: 'invalid_query', message: 'to is outside' });
  });

  it.each([
    ['GET', '/api/executions', 405, 'POST'],
    ['DELETE', '/api/summary', 405, 'GET, HEAD'],
    ['PUT', '/index.html', 405, 'GET, HEAD'],
  ])('answers %s %s with a JSON %i and an Allow header', async (method, path, status, allow) => {
    const response = await fetch(`${baseUrl}${path}`, { method });
    expect(response.status).toBe(status);
    expect(response.headers.get('allow')).toBe(allow);
    expect(await response.json()).toMatchObject({ error: 'method_not_allowed', message: expect.any(String) });
  });

  it('answers 400 JSON for a query string with broken URL encoding', async () => {
    const response = await fetch(`${baseUrl}/api/summary?from=%ZZ`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_query' });
  });

  it("answers 414 JSON for a URL over API Gateway's limit and 431 JSON for headers over 64 KiB", async () => {
    const long = await fetch(`${baseUrl}/api/summary?model=${'x'.repeat(20_000)}`);
    expect(long.status).toBe(414);
    expect(await long.json()).toMatchObject({ error: 'uri_too_long' });

    const answer = await rawRequest(`GET /api/summary?m=${'y'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toContain('"error":"request_too_large"');
  });

  it('answers 400 JSON to bytes that are not HTTP', async () => {
    const answer = await rawRequest('NOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"error":"bad_request"');
  });

  it('refuses a body over 10 MB with 413 before reading it', async () => {
    const response = await fetch(`${baseUrl}/api/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'payload_too_large' });
  });

  it('answers 404 JSON for an /api path the deployed API has no route for, without calling a handler', async () => {
    const before = received.length;
    const response = await fetch(`${baseUrl}/api/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found', message: 'no endpoint /api/nope' });
    expect(received.length).toBe(before);
  });

  it('answers CONNECT with a 405 JSON error instead of dropping the connection', async () => {
    const answer = await rawRequest('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: 'method_not_allowed',
    });
  });

  it('answers 500 JSON, not a crash, when a handler throws', async () => {
    const response = await fetch(`${baseUrl}/api/summary`, { headers: { 'x-test-fail': 'throw' } });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'internal_error', message: 'Internal Server Error' });
  });

  it('serves fingerprinted assets as immutable and index.html for / and unknown paths', async () => {
    const asset = await fetch(`${baseUrl}/assets/index-abc123.js`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');

    for (const path of ['/', '/errors?tab=errors', '/no/such/page']) {
      const page = await fetch(`${baseUrl}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(await page.text()).toContain('<title>dashboard</title>');
    }
  });

  it('never serves a file outside the dashboard directory', async () => {
    const answer = await rawRequest(
      'GET /../../../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    expect(answer).not.toContain('root:');
    expect(staticFilePath('/srv/dist', '/%2e%2e/secret')).toBe('/srv/dist/secret');
    expect(staticFilePath('/srv/dist', '/assets/../index.html')).toBe('/srv/dist/index.html');
    expect(staticFilePath('/srv/dist', '/a%00b')).toBeUndefined();
  });

  it('answers HEAD on /api/* as GET, without the body', async () => {
    // Act
    const head = await fetch(`${baseUrl}/api/summary?from=2026-11-01`, { method: 'HEAD' });
    const get = await fetch(`${baseUrl}/api/summary?from=2026-11-01`);

    // Assess
    expect(head.status).toBe(200);
    expect(received.at(-2)?.requestContext.http.method).toBe('GET');
    expect(await head.text()).toBe('');
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
  });

  it.each([
    ['no Host', '', 400, 'bad_request'],
    ['a foreign Host (DNS rebinding)', 'Host: metrics.attacker.example\r\n', 421, 'misdirected_request'],
    ['a foreign Host with our port', 'Host: 10.0.0.1:3000\r\n', 421, 'misdirected_request'],
    ['2,001 header fields', `Host: 127.0.0.1\r\n${'x-a: 1\r\n'.repeat(2_000)}`, 431, 'request_too_large'],
    ['an Expect it does not know', 'Host: 127.0.0.1\r\nExpect: 200-ok\r\n', 417, 'expectation_failed'],
  ])(
    'refuses a request with %s with a JSON %i, without calling a handler',
    async (_, headers, status, error) => {
      // Prepare
      const before = received.length;

      // Act
      const answer = await rawRequest(`GET /api/summary HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`);

      // Assess
      expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(answer).toMatch(/content-type: application\/json/i);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ error });
      expect(received.length).toBe(before);
    },
  );

  it.each(['localhost', 'LOCALHOST:3000', '127.0.0.1', '127.0.0.1:5173', '[::1]:3912'])(
    'answers Host %s, one of its own names',
    async (host) => {
      const answer = await rawRequest(
        `GET /api/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    },
  );

  it('answers 408 JSON to a body that does not arrive in time, without calling a handler', async () => {
    // Prepare
    const before = received.length;

    // Act: 100 bytes announced, 5 sent, the socket left open.
    const answer = await rawRequest(
      'POST /api/executions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"a":',
      true,
    );

    // Assess
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: 'request_timeout',
    });
    expect(received.length).toBe(before);
  });
});
