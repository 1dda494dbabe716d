import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { batches, ingestUrl, isLocal, prepareRequest, regionOf, runsOf, send } from '../../local/send';

// The sender of `npm run send` lives beside the deploy docs: it is how agents
// reach the IAM-protected ingest route of a deployed stack.

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const apiUrl = ingestUrl('https://abc123.execute-api.eu-west-1.amazonaws.com');

describe('input', () => {
  it('reads an array, an {executions} object or a single run', () => {
    expect(runsOf([{ a: 1 }, { a: 2 }])).toHaveLength(2);
    expect(runsOf({ executions: [{ a: 1 }] })).toEqual([{ a: 1 }]);
    expect(runsOf({ executionId: 'x' })).toEqual([{ executionId: 'x' }]);
    expect(() => runsOf('nope')).toThrow(/JSON array/);
  });

  it('splits runs into batches of at most 100', () => {
    const runs = Array.from({ length: 250 }, (_, i) => i);
    expect(batches(runs).map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches(runs, 7).flat()).toEqual(runs);
    expect(() => batches(runs, 101)).toThrow(/1–100/);
  });
});

describe('endpoint', () => {
  it('appends /api/executions to a base URL and keeps a full one', () => {
    expect(ingestUrl('https://x.example.com/').toString()).toBe('https://x.example.com/api/executions');
    expect(ingestUrl('https://x.example.com/api/executions').toString()).toBe(
      'https://x.example.com/api/executions',
    );
    expect(ingestUrl('http://127.0.0.1:3000').toString()).toBe('http://127.0.0.1:3000/api/executions');
  });

  it('tells local runtimes and execute-api regions apart', () => {
    expect(isLocal(new URL('http://127.0.0.1:3000'))).toBe(true);
    expect(isLocal(new URL('http://localhost:3999'))).toBe(true);
    expect(isLocal(apiUrl)).toBe(false);
    expect(regionOf(apiUrl)).toBe('eu-west-1');
    expect(regionOf(new URL('https://metrics.example.com'))).toBeUndefined();
  });
});

describe('request building', () => {
  it('signs a remote request with SigV4 for execute-api in the given region', async () => {
    const request = await prepareRequest(apiUrl, [{ executionId: 'r1' }], {
      credentials,
      region: 'eu-west-1',
    });
    expect(request.url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/api/executions');
    expect(JSON.parse(request.body)).toEqual({ executions: [{ executionId: 'r1' }] });
    expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(request.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
    const date = request.headers['x-amz-date']!.slice(0, 8);
    expect(request.headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${date}/eu-west-1/execute-api/aws4_request, ` +
          'SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$',
      ),
    );
    // fetch derives Host from the URL; passing it would fail.
    expect(request.headers.host).toBeUndefined();
  });

  it('adds the session token of temporary credentials to the signed headers', async () => {
    const request = await prepareRequest(apiUrl, [], {
      credentials: { ...credentials, sessionToken: 'token-123' },
      region: 'eu-west-1',
    });
    expect(request.headers['x-amz-security-token']).toBe('token-123');
    expect(request.headers.authorization).toContain('x-amz-security-token');
  });

  it('signs the exact body it sends', async () => {
    const request = await prepareRequest(apiUrl, [{ executionId: 'r1' }], {
      credentials,
      region: 'eu-west-1',
    });
    const digest = createHash('sha256').update(request.body).digest('hex');
    expect(request.headers['x-amz-content-sha256']).toBe(digest);
  });

  it('leaves a request unsigned without signing settings', async () => {
    const request = await prepareRequest(new URL('http://127.0.0.1:3000/api/executions'), [
      { executionId: 'r1' },
    ]);
    expect(request.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
  });
});

describe('send', () => {
  it('posts unsigned batches to a local runtime and reports each batch', async () => {
    const received: { authorization?: string; count: number }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const { executions } = JSON.parse(body) as { executions: unknown[] };
        received.push({ authorization: req.headers.authorization, count: executions.length });
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accepted: executions.length, duplicates: 0, rejected: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const lines: string[] = [];
    try {
      const runs = Array.from({ length: 150 }, (_, i) => ({ executionId: `r${i}` }));
      const ok = await send(runs, { url: `http://127.0.0.1:${port}` }, (line) => lines.push(line));
      expect(ok).toBe(true);
    } finally {
      server.close();
    }
    expect(received).toEqual([{ count: 100 }, { count: 50 }]);
    expect(lines[0]).toContain('unsigned');
    expect(lines.slice(1)).toEqual([
      'batch 1/2 (100 run(s)): 202 accepted=100 duplicates=0 rejected=0',
      'batch 2/2 (50 run(s)): 202 accepted=50 duplicates=0 rejected=0',
    ]);
  });
});

/** A local ingest stand-in that answers each batch with `answer(batchNumber, runs)`. */
async function withIngestServer(
  answer: (batch: number, runs: { executionId: string }[]) => { status: number; body: unknown },
  use: (url: string) => Promise<void>,
): Promise<void> {
  let batch = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const { executions } = JSON.parse(body) as { executions: { executionId: string }[] };
      const { status, body: reply } = answer(batch++, executions);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await use(`http://127.0.0.1:${port}`);
  } finally {
    server.close();
  }
}

describe('send reports what was not stored', () => {
  const runs = Array.from({ length: 4 }, (_, i) => ({ executionId: `r${i}` }));

  it('fails on a 207 and names each rejected run by its place in the file, id and reasons', async () => {
    const lines: string[] = [];
    let ok: boolean | undefined;
    await withIngestServer(
      (batch) =>
        batch === 0
          ? { status: 202, body: { accepted: 2, duplicates: 0, superseded: 0, rejected: [] } }
          : {
              status: 207,
              body: {
                accepted: 1,
                duplicates: 0,
                superseded: 0,
                rejected: [
                  {
                    index: 1,
                    executionId: 'r3',
                    errors: [
                      { path: 'costUSD', message: 'unknown field "costUSD" (did you mean "costUsd"?)' },
                      { path: 'endTime', message: 'endTime is before startTime' },
                    ],
                  },
                ],
              },
            },
      async (url) => {
        ok = await send(runs, { url, batchSize: 2 }, (line) => lines.push(line));
      },
    );
    expect(ok).toBe(false);
    expect(lines).toContain('batch 2/2 (2 run(s)): 207 accepted=1 duplicates=0 rejected=1');
    expect(lines).toContain(
      '  rejected run 3 (id "r3"): costUSD: unknown field "costUSD" (did you mean "costUsd"?); endTime: endTime is before startTime',
    );
    expect(lines.at(-1)).toBe('not all runs were stored: 1 rejected, 0 batch(es) failed');
  });

  it('fails when a batch is refused as a whole, and still sends the others', async () => {
    const lines: string[] = [];
    const answered: number[] = [];
    let ok: boolean | undefined;
    await withIngestServer(
      (batch, executions) => {
        answered.push(batch);
        return batch === 0
          ? {
              status: 503,
              body: {
                error: 'service_unavailable',
                message: 'the store is busy; re-send the request after 2 s',
              },
            }
          : {
              status: 202,
              body: { accepted: executions.length, duplicates: 0, superseded: 0, rejected: [] },
            };
      },
      async (url) => {
        ok = await send(runs, { url, batchSize: 2 }, (line) => lines.push(line));
      },
    );
    expect(ok).toBe(false);
    expect(answered).toEqual([0, 1]);
    expect(lines).toContain(
      'batch 1/2 (2 run(s)): 503 service_unavailable: the store is busy; re-send the request after 2 s',
    );
    expect(lines.at(-1)).toBe('not all runs were stored: 0 rejected, 1 batch(es) failed');
  });

  it('fails when the API cannot be reached', async () => {
    // A port that was just free: nothing listens there any more.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const lines: string[] = [];
    const ok = await send(runs.slice(0, 1), { url: `http://127.0.0.1:${port}` }, (line) => lines.push(line));
    expect(ok).toBe(false);
    expect(lines[1]).toMatch(/^batch 1\/1 \(1 run\(s\)\): failed, no answer: /);
  });
});
