/**
 * Test harness: the local runtime (`local/main.ts`, what `npm start` runs) as
 * a child process, the way a user runs it.
 *
 * - It gets a free port and its own process group, so `stop()` can signal the
 *   whole group the way Ctrl-C in a terminal does.
 * - stdout and stderr are collected, so a failing test can print them.
 * - `kill()` is a crash (SIGKILL to the group, no clean-up code runs);
 *   `restart()` starts it again on the same port with the same `--data-dir`.
 * - DynamoDB Local runs in a process group of its own (see
 *   local/dynamodb-local.ts), so after a stop or a crash we wait for every
 *   process the runtime started to be gone, and kill leftovers by pid: a Java
 *   process still holding the data directory would corrupt the next start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../local/dynamodb-local';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RuntimeOptions {
  /** Persist DynamoDB Local under this directory (`--data-dir`); in memory when absent. */
  readonly dataDir?: string;
  /** Seed demo data. @default false */
  readonly demo?: boolean;
  /** Port of the HTTP server. @default a free port */
  readonly port?: number;
  /** How long to wait for the `ready at` line. @default 120000 */
  readonly readyTimeoutMs?: number;
  /** Extra environment variables for the runtime. */
  readonly env?: Readonly<Record<string, string>>;
  /** Echo the runtime's output lines to this process's stderr as they come. @default false */
  readonly echo?: boolean;
  /** The entry module, relative to the repository root. @default RUNTIME_ENTRY or 'local/main.ts' */
  readonly entry?: string;
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RuntimeProcess {
  readonly options: RuntimeOptions;
  readonly port: number;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** Resolves when the runtime's Node process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** Everything the runtime wrote to stdout and stderr so far. */
  output(): string;
  /** The last `n` lines of output, for failure messages. */
  tail(n?: number): string;
  /** True while the runtime's Node process runs. */
  isAlive(): boolean;
  /** Pids of every live process the runtime started (DynamoDB Local's Java and its watchdog included). */
  descendants(): number[];
  /** Waits (bounded) for a line matching `pattern` in the output; returns the match. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when every process it started is gone. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** A crash: SIGKILL to the process group, no clean-up runs; resolves when every process it started is gone. */
  kill(): Promise<ExitInfo>;
}

class RuntimeStartError extends Error {
  override name = 'RuntimeStartError';
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Parent pid of every process, read from /proc (Linux). */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; fields resume after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // The process exited while we read.
    }
  }
  return parents;
}

/** Every live descendant of `root`, excluding root itself. */
function descendantsOf(root: number): number[] {
  const parents = parentPids();
  const children = new Map<number, number[]>();
  for (const [pid, parent] of parents) {
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; it holds no resources, so it counts as gone.
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until none of `pids` runs; after `timeoutMs`, SIGKILLs the leftovers (our own descendants) by pid. */
async function waitForPidsGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pids.some(isRunning)) return [];
    await delay(100);
  }
  const leftovers = pids.filter(isRunning);
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone in the meantime.
    }
  }
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline && leftovers.some(isRunning)) await delay(50);
  return leftovers;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Starts `local/main.ts --port N --no-demo [--data-dir DIR]` and waits for its
 * `ready at http://127.0.0.1:<port>` line. Throws with the runtime's output if
 * it exits or stays silent.
 */
export async function startRuntime(options: RuntimeOptions = {}): Promise<RuntimeProcess> {
  const port = options.port ?? (await findFreePort());
  const entry = options.entry ?? process.env.RUNTIME_ENTRY ?? 'local/main.ts';
  const args = ['--import', 'tsx', entry, '--port', String(port)];
  if (!options.demo) args.push('--no-demo');
  if (options.dataDir !== undefined) args.push('--data-dir', options.dataDir);

  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: repositoryRoot,
    env: { ...process.env, NODE_ENV: 'production', FORCE_COLOR: '0', ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new RuntimeStartError('could not spawn the runtime');

  const chunks: string[] = [];
  let size = 0;
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    chunks.push(text);
    size += text.length;
    // Keep the last ~4 MB: a load test's runtime may log a lot.
    while (size > 4_000_000 && chunks.length > 1) size -= (chunks.shift() as string).length;
    if (options.echo) process.stderr.write(text);
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const output = () => chunks.join('');
  const tail = (n = 40) => output().split('\n').slice(-n).join('\n');

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((done) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      for (const listener of listeners) listener();
      done(exitInfo);
    });
  });
  // The last descendants we saw: after the runtime is gone its children are
  // re-parented and can no longer be found from its pid.
  let knownDescendants: number[] = [];
  const descendants = () => {
    if (exitInfo === undefined) {
      const now = descendantsOf(pid);
      knownDescendants = [...new Set([...knownDescendants, ...now])];
      return now;
    }
    return knownDescendants.filter(isRunning);
  };
  const watcher = setInterval(descendants, 500);
  watcher.unref();
  void exited.then(() => clearInterval(watcher));

  const waitForOutput = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<RegExpMatchArray>((resolveMatch, reject) => {
      const check = () => {
        const match = output().match(pattern);
        if (match) {
          finish();
          resolveMatch(match);
        } else if (exitInfo !== undefined) {
          finish();
          reject(
            new RuntimeStartError(
              `runtime exited (${JSON.stringify(exitInfo)}) before printing ${pattern}:\n${tail()}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new RuntimeStartError(`runtime did not print ${pattern} within ${timeoutMs} ms:\n${tail()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  const terminate = async (signal: NodeJS.Signals, graceMs: number): Promise<ExitInfo> => {
    const before = descendants();
    signalGroup(pid, signal);
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    const info = await exited;
    clearTimeout(timer);
    // DynamoDB Local's watchdog stops Java once the runtime is gone (TERM, KILL after 5 s).
    const leftovers = await waitForPidsGone([...new Set([...before, ...knownDescendants])], 15_000);
    if (leftovers.length > 0) {
      chunks.push(`\n[harness] killed leftover processes ${leftovers.join(', ')}\n`);
    }
    return info;
  };

  const runtime: RuntimeProcess = {
    options: { ...options, port },
    port,
    pid,
    baseUrl: `http://127.0.0.1:${port}`,
    exited,
    output,
    tail,
    isAlive: () => exitInfo === undefined,
    descendants,
    waitForOutput,
    stop: (graceMs = 20_000) => terminate('SIGTERM', graceMs),
    kill: () => terminate('SIGKILL', 0),
  };

  try {
    await waitForOutput(/ready at (http:\/\/127\.0\.0\.1:\d+)/, options.readyTimeoutMs ?? 120_000);
  } catch (error) {
    await runtime.kill();
    throw error;
  }
  descendants();
  return runtime;
}

/**
 * Stops (or has already lost) `previous` and starts a runtime with the same
 * options: same port, same `--data-dir`. A crash test calls `kill()` first.
 */
export async function restartRuntime(
  previous: RuntimeProcess,
  overrides: Partial<RuntimeOptions> = {},
): Promise<RuntimeProcess> {
  if (previous.isAlive()) await previous.stop();
  else await previous.kill(); // reaps leftovers of a crashed runtime
  const options = { ...previous.options, ...overrides };
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRuntime(options);
    } catch (error) {
      // The old listening socket may linger for a moment after a crash.
      if (attempt >= 3 || !/EADDRINUSE/.test((error as Error).message)) throw error;
      await delay(1_000);
    }
  }
}
