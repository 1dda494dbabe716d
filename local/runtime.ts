/**
 * The whole system without AWS, in one process: DynamoDB Local with the real
 * tables, the stream poller driving the aggregate handler, and the HTTP server
 * for the API and the dashboard. `main.ts` is its command line; tests and
 * benchmarks call startLocalRuntime() directly.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { aggregatesTable, executionsTable, tableDefinitions } from '../functions/store/tables.js';
import { type SeedReport, seedDemoData } from './demo-seed.js';
import { createTables, type DynamoDbLocal, localAwsSettings, startDynamoDbLocal } from './dynamodb-local.js';
import { ensureFrontendBuilt, frontendPaths } from './frontend-build.js';
import { type ApiHandlers, createLocalHttpServer } from './http-server.js';
import { asFunction, installPermissionGuard } from './permission-guard.js';
import type { StreamHandler } from './stream-event.js';
import {
  StreamPoller,
  type StreamPollerOptions,
  type StreamPoller as StreamPollerType,
  streamsApiFromClient,
} from './stream-poller.js';
import { claimStreamLayout, ShardedStream } from './stream-shards.js';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

export interface LocalRuntimeOptions {
  /** HTTP port on 127.0.0.1; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** Seed demo data through the ingest API. @default true */
  readonly demo?: boolean;
  /** Days of demo history. @default 30 */
  readonly demoDays?: number;
  /** Persist tables and stream checkpoints here; in memory when absent. */
  readonly dataDir?: string;
  /** No progress output (errors and dead letters are still reported through `log`). */
  readonly quiet?: boolean;
  /** Where progress lines go. @default console.log */
  readonly log?: (line: string) => void;
  /** Build frontend/dist when missing or stale. @default true */
  readonly buildFrontend?: boolean;
  /**
   * Shards of the Executions stream (`--stream-shards`): records go to a shard
   * by their partition key, each shard with its own poller loop, as a table
   * with that many partitions has in AWS (local/stream-shards.ts). @default 1
   */
  readonly streamShards?: number;
  /** Records a shard takes before it closes and a child continues (only with streamShards > 1). @default 1000 */
  readonly recordsPerStreamShard?: number;
  /** Overrides of the stream poller's settings and fault-injection hooks. */
  readonly poller?: Partial<Omit<StreamPollerOptions, 'streams' | 'streamArn' | 'handler'>>;
  /** Wraps the aggregate handler, e.g. to crash it mid-batch in a fault test. */
  readonly wrapAggregateHandler?: (handler: StreamHandler) => StreamHandler;
  /** Progress of the demo seed (a TTY progress bar in main.ts). */
  readonly onSeedProgress?: (done: number, total: number) => void;
}

export interface LocalRuntime {
  readonly url: string;
  readonly port: number;
  readonly dynamoEndpoint: string;
  /** The running DynamoDB Local (a new one after restartDynamo()). */
  readonly dynamo: DynamoDbLocal;
  /**
   * Stops DynamoDB Local and starts it again on the same port, for fault
   * tests: requests meanwhile fail, the poller waits, nothing is dead-lettered.
   * Only with `dataDir` does the data survive.
   */
  restartDynamo(options?: { downForMs?: number }): Promise<void>;
  readonly poller: StreamPollerType;
  readonly metricsSink: MetricsSink;
  /** Resolves when demo seeding has finished (at once with `demo: false`). */
  readonly seeding: Promise<SeedReport | undefined>;
  /** Stops seeding, the server, the poller and DynamoDB Local. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The demo seed as `GET /api/health` reports it under `local.seed`, for the
 * dashboard's banner: runs sent through the ingest API so far, of how many,
 * and `done` once seeding has ended (finished, failed or stopped) and the
 * stream has caught up, so that the figures on screen are final.
 */
interface SeedProgress {
  runsSent: number;
  runsTotal: number;
  done: boolean;
}

/**
 * Stands in for CloudWatch Logs' metric extraction: receives the Embedded
 * Metric Format lines the handlers write to stdout in Lambda, counts them for
 * /api/health and keeps the latest. A line per batch on the terminal would
 * bury the runtime's own output, so they are printed only with EMF_STDOUT=1.
 */
class MetricsSink {
  documents = 0;
  datapoints = 0;
  lastEmittedAt: string | undefined;
  readonly recent: Record<string, unknown>[] = [];

  constructor(private readonly echo?: (line: string) => void) {}

  write = (line: string): void => {
    this.echo?.(line);
    const document = JSON.parse(line) as { _aws: { CloudWatchMetrics: { Metrics: unknown[] }[] } };
    this.documents++;
    this.datapoints += document._aws.CloudWatchMetrics.reduce((sum, entry) => sum + entry.Metrics.length, 0);
    this.lastEmittedAt = new Date().toISOString();
    this.recent.push(document);
    // A batch writes a document per start minute of its runs (batch-metrics.ts): keep a few batches' worth.
    if (this.recent.length > 500) this.recent.shift();
  };

  summary() {
    return {
      emfDocuments: this.documents,
      datapoints: this.datapoints,
      lastEmittedAt: this.lastEmittedAt ?? null,
    };
  }
}

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

let handlersBoundTo: string | undefined;

/**
 * The handlers read their configuration at module load, so the environment is
 * set before they are imported. The SDK reads AWS_ENDPOINT_URL_DYNAMODB; the
 * CloudWatch endpoint points at a closed local port so that nothing can leave
 * the machine even by mistake.
 */
function configureHandlerEnvironment(dynamoEndpoint: string): void {
  Object.assign(process.env, {
    EXECUTIONS_TABLE_NAME: executionsTable.logicalName,
    AGGREGATES_TABLE_NAME: aggregatesTable.logicalName,
    RAW_RETENTION_DAYS: process.env.RAW_RETENTION_DAYS ?? '90',
    METRICS_NAMESPACE: 'FixerAgent',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamoEndpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH: 'http://127.0.0.1:9',
    AWS_REGION: localAwsSettings.region,
    AWS_DEFAULT_REGION: localAwsSettings.region,
    AWS_ACCESS_KEY_ID: localAwsSettings.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localAwsSettings.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
  });
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'ALARM_NAME']) delete process.env[name];
}

async function importHandlers(dynamoEndpoint: string, metricsSink: MetricsSink) {
  if (handlersBoundTo !== undefined && handlersBoundTo !== dynamoEndpoint) {
    // Module-scope SDK clients already point at the first runtime's DynamoDB Local.
    throw new Error(
      'one local runtime per process: the handler modules are already bound to another DynamoDB Local',
    );
  }
  configureHandlerEnvironment(dynamoEndpoint);
  handlersBoundTo = dynamoEndpoint;
  const load = (name: string) => import(pathToFileURL(join(repoRoot, 'functions', `${name}.ts`)).href);
  const [ingest, query, aggregate, clients, emitter] = await Promise.all([
    load('ingest'),
    load('query'),
    load('aggregate'),
    load('store/clients'),
    load('store/metrics-emitter'),
  ]);
  // Every handler's EMF documents, the HTTP handlers' 5xx counts included.
  emitter.setDefaultEmfSink(metricsSink.write);
  // Each handler's DynamoDB calls are held to its role, as in AWS.
  installPermissionGuard(clients.dynamodb, localAwsSettings.region);
  const api: ApiHandlers = {
    ingest: asFunction('ingest', ingest.handler),
    query: asFunction('query', query.handler),
  };
  const aggregateHandler: StreamHandler = asFunction('aggregate', aggregate.createAggregateHandler({}));
  return { api, aggregateHandler };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((done, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(`port ${port} on 127.0.0.1 is already in use; pass --port N (or set PORT)`)
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      const address = server.address();
      done(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    if (!server.listening) {
      done();
      return;
    }
    server.close(() => done());
    server.closeIdleConnections();
    // In-flight requests get a moment to finish, then their sockets go.
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const startedAt = Date.now();
  // The AWS SDK warns that it drops Node 20 in 2027; the README states the supported versions.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const log = options.log ?? ((line: string) => console.log(line));
  const progress = (line: string) => {
    if (!options.quiet) log(line);
  };
  const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);

  let handlers: ApiHandlers | undefined;
  let staticRoot: string | undefined;
  let poller: StreamPoller | undefined;
  const metricsSink = new MetricsSink(process.env.EMF_STDOUT === '1' ? log : undefined);
  // The demo seed's progress, for the dashboard's "still loading" banner (null without a seed).
  const seed: SeedProgress | null =
    options.demo === false ? null : { runsSent: 0, runsTotal: 0, done: false };
  const server = createLocalHttpServer({
    getHandlers: () => handlers,
    getStaticRoot: () => staticRoot,
    getHealthExtras: () => ({
      runtime: 'local',
      stream: poller?.status() ?? null,
      metrics: metricsSink.summary(),
      seed,
    }),
    log,
  });

  // Listen first: the origin is needed for DynamoDB Local's -cors, and a busy
  // port should fail before Java starts.
  const port = await listen(server, options.port ?? 3000);
  const url = `http://127.0.0.1:${port}`;
  progress(`http server listening on ${url} (answers 503 until ready)`);

  let dynamo: DynamoDbLocal | undefined;
  try {
    const paths = frontendPaths(repoRoot);
    const frontendBuild =
      options.buildFrontend === false
        ? Promise.resolve(buildDecisionServeOnly(paths.distDir))
        : ensureFrontendBuilt(paths, progress);

    progress(`starting DynamoDB Local (${dataDir ? `data in ${dataDir}` : 'in memory'}) ...`);
    dynamo = await startDynamoDbLocal({
      corsOrigins: [url, `http://localhost:${port}`],
      ...(dataDir ? { dataDir } : {}),
      onOutput: (line) => {
        if (/exception|error/i.test(line)) log(`dynamodb-local: ${line}`);
      },
    });
    progress(`DynamoDB Local on port ${dynamo.port} (pid ${dynamo.pid}) after ${elapsed()}`);

    const clientConfig = {
      endpoint: dynamo.endpoint,
      region: localAwsSettings.region,
      credentials: {
        accessKeyId: localAwsSettings.accessKeyId,
        secretAccessKey: localAwsSettings.secretAccessKey,
      },
    };
    const dynamoClient = new DynamoDBClient(clientConfig);
    await createTables(dynamoClient, tableDefinitions);
    const description = await dynamoClient.send(
      new DescribeTableCommand({ TableName: executionsTable.logicalName }),
    );
    dynamoClient.destroy();
    const streamArn = description.Table?.LatestStreamArn;
    if (!streamArn) throw new Error('the Executions table has no stream; check functions/store/tables.ts');
    progress(`tables ready: ${tableDefinitions.map((table) => table.logicalName).join(', ')}`);

    const loaded = await importHandlers(dynamo.endpoint, metricsSink);
    const aggregateHandler = options.wrapAggregateHandler
      ? options.wrapAggregateHandler(loaded.aggregateHandler)
      : loaded.aggregateHandler;
    const streamShards = options.streamShards ?? 1;
    if (dataDir) claimStreamLayout(dataDir, streamShards, options.recordsPerStreamShard);
    const realStream = streamsApiFromClient(new DynamoDBStreamsClient(clientConfig));
    poller = new StreamPoller({
      streams:
        streamShards === 1
          ? realStream
          : new ShardedStream({
              source: realStream,
              streamArn,
              shardCount: streamShards,
              partitionKeyName: executionsTable.partitionKey.name,
              ...(options.recordsPerStreamShard ? { recordsPerShard: options.recordsPerStreamShard } : {}),
            }),
      streamArn,
      handler: aggregateHandler,
      region: localAwsSettings.region,
      log,
      ...(dataDir ? { checkpointFile: join(dataDir, 'stream-checkpoints.json') } : {}),
      ...options.poller,
    });
    poller.start();
    progress(
      `stream poller started (${streamShards} shard${streamShards === 1 ? '' : 's'}, batch 100, bisect on error, 5 retries, dead letters in /api/health)`,
    );

    staticRoot = await frontendBuild;
    handlers = loaded.api;
  } catch (error) {
    await closeServer(server);
    await dynamo?.stop();
    throw error;
  }
  let currentDynamo = dynamo;
  const startedPoller = poller;
  const dynamoOptions = {
    corsOrigins: [url, `http://localhost:${port}`],
    ...(dataDir ? { dataDir } : {}),
    port: dynamo.port,
    onOutput: (line: string) => {
      if (/exception|error/i.test(line)) log(`dynamodb-local: ${line}`);
    },
  };
  let restarting: Promise<void> | undefined;
  const restartDynamo = async ({ downForMs = 0 } = {}) => {
    await restarting;
    restarting = (async () => {
      log(`restarting DynamoDB Local on port ${currentDynamo.port} ...`);
      await currentDynamo.stop();
      if (downForMs > 0) await new Promise((done) => setTimeout(done, downForMs));
      currentDynamo = await startDynamoDbLocal(dynamoOptions);
      log(`DynamoDB Local is back (pid ${currentDynamo.pid})`);
    })();
    await restarting;
  };

  const seedAbort = new AbortController();
  const seeding: Promise<SeedReport | undefined> =
    options.demo === false
      ? Promise.resolve(undefined)
      : seedDemoData({
          baseUrl: url,
          days: options.demoDays ?? 30,
          ...(dataDir ? { markerFile: join(dataDir, 'demo-seed.json') } : {}),
          signal: seedAbort.signal,
          onProgress: (done, total) => {
            if (seed) Object.assign(seed, { runsSent: done, runsTotal: total });
            options.onSeedProgress?.(done, total);
          },
        }).catch((error: unknown) => {
          if (!seedAbort.signal.aborted) log(`warning: demo seeding failed: ${(error as Error).message}`);
          return undefined;
        });
  // Done for the dashboard once the aggregates hold every seeded run, not merely once they are sent.
  seeding
    .then(() => startedPoller.waitUntilCaughtUp(60_000))
    .catch(() => {})
    .finally(() => {
      if (seed) seed.done = true;
    });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      seedAbort.abort();
      await closeServer(server);
      // A batch in flight gets a few seconds to finish; after that it is as if Lambda timed out.
      const graceful = startedPoller.stop();
      const timedOut = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((done) => setTimeout(() => done(true), 5_000).unref()),
      ]);
      if (timedOut) await startedPoller.stop({ abandonInFlight: true });
      await restarting?.catch(() => {});
      await currentDynamo.stop();
    })();
    return stopping;
  };

  progress(`started in ${elapsed()}`);
  return {
    url,
    port,
    dynamoEndpoint: currentDynamo.endpoint,
    get dynamo() {
      return currentDynamo;
    },
    restartDynamo,
    poller: startedPoller,
    metricsSink,
    seeding,
    stop,
  };
}

function buildDecisionServeOnly(distDir: string): string | undefined {
  return existsSync(join(distDir, 'index.html')) ? distDir : undefined;
}
