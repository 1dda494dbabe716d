/** The command line of `npm start` (local/main.ts), parsed without side effects. */
import { parseArgs } from 'node:util';
import { runLimitsSchema } from '../functions/domain/execution.js';
import { maxStreamShards } from './stream-shards.js';

export const usage = `Usage: npm start -- [options]

Runs the metrics platform locally: DynamoDB Local (Java 17+), the stream
poller, the API and the dashboard, on http://127.0.0.1:<port>.

Options:
  --port N          HTTP port on 127.0.0.1 (default: $PORT or 3000; 0 = any free port)
  --no-demo         start empty instead of seeding demo data
  --demo-days N     days of demo history to seed (default 30)
  --data-dir DIR    keep tables and stream checkpoints in DIR (default: in memory)
  --stream-shards N run the table's stream as N shards (1-64), each with its
                    own poller, as a table with N partitions has in AWS
                    (default: $STREAM_SHARDS or 1)
  --run-limits JSON plausibility limits of a posted run, e.g.
                    '{"maxDurationHours":48,"maxCostUsd":100}'; keys
                    clockSkewSeconds (300), maxDurationHours (24),
                    maxCostUsd (1000), maxTokens (2000000); see docs/QUERY.md
  --quiet           print only errors and the ready line
  -h, --help        show this help

Stop with Ctrl-C; DynamoDB Local stops with it.`;

export interface CliOptions {
  port: number;
  demo: boolean;
  demoDays: number;
  dataDir: string | undefined;
  streamShards: number;
  /** RUN_LIMITS for the ingest handler, checked here so that a typo stops the start. */
  runLimits: string | undefined;
  quiet: boolean;
  help: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

function parseInteger(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return Number(text);
}

export function parseCliOptions(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        demo: { type: 'boolean', default: true },
        'no-demo': { type: 'boolean' },
        'demo-days': { type: 'string' },
        'data-dir': { type: 'string' },
        'stream-shards': { type: 'string' },
        'run-limits': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const portText = (values.port as string | undefined) ?? env.PORT ?? '3000';
  return {
    port: parseInteger(portText, '--port', 0, 65_535),
    demo: values['no-demo'] !== true && values.demo !== false,
    demoDays:
      values['demo-days'] === undefined
        ? 30
        : parseInteger(values['demo-days'] as string, '--demo-days', 1, 400),
    dataDir: values['data-dir'] as string | undefined,
    streamShards: parseInteger(
      (values['stream-shards'] as string | undefined) ?? env.STREAM_SHARDS ?? '1',
      '--stream-shards',
      1,
      maxStreamShards,
    ),
    runLimits: parseRunLimits(values['run-limits'] as string | undefined),
    quiet: values.quiet === true,
    help: values.help === true,
  };
}

function parseRunLimits(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`--run-limits must be a JSON object, got "${text.slice(0, 100)}"`);
  }
  const parsed = runLimitsSchema.safeParse(json);
  if (!parsed.success)
    throw new UsageError(`--run-limits: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  return JSON.stringify(parsed.data);
}
