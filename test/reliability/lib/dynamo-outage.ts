/**
 * Stops the DynamoDB Local that a running runtime started and starts it again
 * on the same port with the same command line (so the same `-dbPath`), as an
 * operator restarting the database under a live service would. The runtime is
 * not told: its clients must ride out the outage and reconnect.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { RuntimeProcess } from '../../support/runtime-harness';
import { dynamoClient } from './truth';

interface JavaProcess {
  readonly pid: number;
  readonly args: string[];
  readonly cwd: string;
  readonly port: number;
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The DynamoDB Local Java process among the runtime's descendants. */
function dynamoDbLocalProcessOf(runtime: RuntimeProcess): JavaProcess {
  for (const pid of runtime.descendants()) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    const portIndex = args.indexOf('-port');
    if (!args.some((arg) => arg.endsWith('DynamoDBLocal.jar')) || portIndex < 0) continue;
    // The watchdog shell also names the jar; the Java process is the one that runs `java` itself.
    if (!/(^|\/)java$/.test(args[0] ?? '')) continue;
    return { pid, args, cwd: readlinkSync(`/proc/${pid}/cwd`), port: Number(args[portIndex + 1]) };
  }
  throw new Error(`no DynamoDB Local process under runtime ${runtime.pid}`);
}

async function waitUntilAnswering(endpoint: string, timeoutMs: number): Promise<void> {
  const client = dynamoClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not come back: ${(error as Error).message}`);
        await delay(100);
      }
    }
  } finally {
    client.destroy();
  }
}

export interface RestartedDynamo {
  /** How long the store was down, from the stop signal to the first answer after the restart. */
  readonly outageMs: number;
  /** Stops the Java process this helper started (the runtime does not know about it). */
  stop(): Promise<void>;
}

/**
 * SIGTERM to DynamoDB Local (it shuts down cleanly, flushing its files), a
 * pause of `downMs`, then the same command line again on the same port.
 */
export async function restartDynamoDbLocal(
  runtime: RuntimeProcess,
  downMs: number,
): Promise<RestartedDynamo> {
  const java = dynamoDbLocalProcessOf(runtime);
  const stoppedAt = Date.now();
  process.kill(java.pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (isRunning(java.pid) && Date.now() < deadline) await delay(50);
  if (isRunning(java.pid)) process.kill(java.pid, 'SIGKILL');
  while (isRunning(java.pid)) await delay(50);
  await delay(downMs);

  const [command, ...args] = java.args;
  const child: ChildProcess = spawn(command as string, args, {
    cwd: java.cwd,
    env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  await waitUntilAnswering(`http://127.0.0.1:${java.port}`, 60_000);
  const outageMs = Date.now() - stoppedAt;
  return {
    outageMs,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
