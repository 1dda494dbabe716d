/**
 * `npm start` as a user runs it: it comes up, serves the API and the
 * dashboard, and however it ends (Ctrl-C to the process group, SIGTERM, or a
 * crash) no DynamoDB Local Java process outlives it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly dynamoPort: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

const started: Started[] = [];

/** Starts the runtime in a process group of its own, as a terminal would, and waits for `ready at`. */
async function startRuntime(command: string, args: readonly string[]): Promise<Started> {
  const child = spawn(command, args, {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const deadline = Date.now() + 150_000;
  for (;;) {
    const ready = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    const dynamo = /DynamoDB Local on port (\d+)/.exec(output);
    if (ready?.[1] && dynamo?.[1]) {
      const runtime = { child, url: ready[1], dynamoPort: Number(dynamo[1]), exited, output: () => output };
      started.push(runtime);
      return runtime;
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the runtime did not become ready:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
}

/**
 * Pids of the processes of the DynamoDB Local on `port`: Java itself and its
 * watchdog shell (whose command line carries the same arguments).
 */
function javaProcessesOnPort(port: number, only?: 'java'): number[] {
  let pids: number[];
  try {
    pids = execFileSync('pgrep', ['-f', 'DynamoDBLocal.jar'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return pids.filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (only === 'java' && !(argv[0] ?? '').endsWith('java')) return false;
      return argv.includes('-port') && argv[argv.indexOf('-port') + 1] === String(port);
    } catch {
      return false; // exited meanwhile
    }
  });
}

async function waitUntilNoJava(port: number, timeoutMs = 15_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = javaProcessesOnPort(port);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 200));
    left = javaProcessesOnPort(port);
  }
  return left;
}

afterEach(async () => {
  // Whatever a failed test left running: the group, then any Java by pid.
  for (const runtime of started.splice(0)) {
    if (runtime.child.exitCode === null && runtime.child.pid) {
      try {
        process.kill(-runtime.child.pid, 'SIGKILL');
      } catch {}
    }
    for (const pid of javaProcessesOnPort(runtime.dynamoPort)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
});

const node = process.execPath;

describe('the local runtime (npm start)', () => {
  it('serves health, ingest to summary and the dashboard, then stops on Ctrl-C to its process group with no Java left', async () => {
    const runtime = await startRuntime('npm', ['start', '--', '--no-demo', '--port', '0']);
    expect(javaProcessesOnPort(runtime.dynamoPort, 'java')).toHaveLength(1);

    const health = await fetch(`${runtime.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      local: { stream: { running: true, deadLetters: [] } },
    });

    const posted = await fetch(`${runtime.url}/api/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        executionId: 'runtime-test-1',
        startTime: new Date(Date.now() - 60_000).toISOString(),
        endTime: new Date().toISOString(),
        status: 'success',
        model: 'test-model',
        inputTokens: 10,
        outputTokens: 5,
      }),
    });
    expect(posted.status).toBe(202);
    await expect
      .poll(
        async () =>
          ((await (await fetch(`${runtime.url}/api/summary`)).json()) as { executions: number }).executions,
        {
          timeout: 10_000,
          interval: 100,
        },
      )
      .toBe(1);

    const page = await fetch(`${runtime.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');

    process.kill(-runtime.child.pid!, 'SIGINT');
    const exit = await runtime.exited;
    expect(await waitUntilNoJava(runtime.dynamoPort)).toEqual([]);
    // The runtime ran its clean stop; npm itself then ends the way a Ctrl-C'd npm does.
    expect(runtime.output()).toContain('stopped');
    expect([0, 'SIGINT']).toContain(exit.code ?? exit.signal);
  });

  it('stops cleanly on SIGTERM to the Node process alone', async () => {
    const runtime = await startRuntime(node, [
      '--import',
      'tsx',
      'local/main.ts',
      '--no-demo',
      '--port',
      '0',
    ]);

    runtime.child.kill('SIGTERM');
    const exit = await runtime.exited;

    expect(exit.code, runtime.output()).toBe(0);
    expect(runtime.output()).toContain('stopped');
    expect(await waitUntilNoJava(runtime.dynamoPort)).toEqual([]);
  });

  it('takes DynamoDB Local down with it when the Node process is killed outright', async () => {
    const runtime = await startRuntime(node, [
      '--import',
      'tsx',
      'local/main.ts',
      '--no-demo',
      '--port',
      '0',
    ]);

    // SIGKILL: no exit handler runs; only the watchdog can stop Java.
    runtime.child.kill('SIGKILL');
    await runtime.exited;

    expect(await waitUntilNoJava(runtime.dynamoPort)).toEqual([]);
  });
});
