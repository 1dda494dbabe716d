/**
 * `npm run rebuild -- --from DAY --to DAY [options]`: recomputes the
 * aggregate items of whole UTC days from the Executions table, safely while
 * the stream keeps running (functions/store/aggregates-rebuild.ts; the
 * runbook and the safety argument are in docs/REBUILD.md).
 */

import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_BATCHING_WINDOW_SECONDS, minimumSettleSeconds } from '../functions/domain/stream-batch';
import {
  type DayReport,
  daysBetween,
  firstExpiredDay,
  rebuildDay,
} from '../functions/store/aggregates-rebuild';
import { aggregatesTable, executionsTable } from '../functions/store/tables';

/** The least settle window for a stack deployed with the default batching window. */
const DEFAULT_SETTLE_SECONDS = minimumSettleSeconds(DEFAULT_BATCHING_WINDOW_SECONDS);

const usage = `Usage: npm run rebuild -- --from YYYY-MM-DD --to YYYY-MM-DD [options]

Recomputes the hourly and daily aggregates of the UTC days from..to (inclusive)
from the runs in the Executions table. Safe while ingest and the stream run:
an item is written only after it stayed unchanged for --settle-seconds, and a
second run writes nothing. Exit status: 0 done (or, with --check, nothing
differs), 1 error, 2 usage, 3 some items kept changing (run again later) or,
with --check, some items differ.

Where:
  --endpoint URL            DynamoDB Local, e.g. http://127.0.0.1:8000 (npm start
                            prints "DynamoDB Local on port N"); local credentials
  --executions-table NAME   default: $EXECUTIONS_TABLE_NAME or Executions
  --aggregates-table NAME   default: $AGGREGATES_TABLE_NAME or Aggregates
                            (deployed: the stack outputs ExecutionsTableName and
                            AggregatesTableName; credentials and region from the
                            usual AWS variables / profile)
Options:
  --settle-seconds N        quiet window per item, above the stream's lag
                            (IteratorAge) and at least the stack output
                            RebuildMinSettleSeconds (default ${DEFAULT_SETTLE_SECONDS}, for the
                            default ${DEFAULT_BATCHING_WINDOW_SECONDS} s batching window)
  --rounds N                settle rounds per day (default 10)
  --retention-days N        raw-run retention: older days are refused, their
                            runs may be gone (default $RAW_RETENTION_DAYS or 90)
  --check                   write nothing; report the items that differ
  -h, --help`;

class UsageError extends Error {}

function positive(text: string | undefined, flag: string, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || (!allowZero && value === 0) || value > 100_000)
    throw new UsageError(`${flag} must be a whole number, got "${text}"`);
  return value;
}

async function main(): Promise<number> {
  // The README states the supported Node versions; the SDK's notice adds nothing here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      endpoint: { type: 'string' },
      'executions-table': { type: 'string' },
      'aggregates-table': { type: 'string' },
      'settle-seconds': { type: 'string' },
      rounds: { type: 'string' },
      'retention-days': { type: 'string' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.from || !values.to) throw new UsageError('--from and --to are required');
  const days = daysBetween(values.from, values.to);
  if (days.length > 400) throw new UsageError('at most 400 days per run');
  const retentionDays = positive(
    values['retention-days'] ?? process.env.RAW_RETENTION_DAYS,
    '--retention-days',
    90,
  );
  const expired = firstExpiredDay(Date.now(), retentionDays);
  if ((days[0] ?? '') <= expired)
    throw new UsageError(
      `runs of ${expired} and earlier may already be deleted by TTL (retention ${retentionDays} days); rebuilding them would lose counts`,
    );
  const endpoint = values.endpoint;
  const client = new DynamoDBClient(
    endpoint
      ? {
          endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {},
  );
  const options = {
    client,
    executionsTable:
      values['executions-table'] ?? process.env.EXECUTIONS_TABLE_NAME ?? executionsTable.logicalName,
    aggregatesTable:
      values['aggregates-table'] ?? process.env.AGGREGATES_TABLE_NAME ?? aggregatesTable.logicalName,
    settleMs: positive(values['settle-seconds'], '--settle-seconds', DEFAULT_SETTLE_SECONDS, true) * 1000,
    rounds: positive(values.rounds, '--rounds', 10),
    checkOnly: values.check ?? false,
    days,
    log: (line: string) => console.log(line),
  };
  console.log(
    `${options.checkOnly ? 'checking' : 'rebuilding'} ${days.length} day(s) ${days[0]}..${days.at(-1)}: ` +
      `${options.executionsTable} → ${options.aggregatesTable}${endpoint ? ` at ${endpoint}` : ''}, settle ${options.settleMs / 1000} s`,
  );
  const reports: DayReport[] = [];
  for (const day of days) {
    const report = await rebuildDay(options, day);
    reports.push(report);
    console.log(
      `${day}: ${report.runs} runs${report.notRuns > 0 ? ` (+${report.notRuns} items that are not runs, not counted)` : ''}; ` +
        `${report.unchanged} items already exact, ${report.rewritten.length} ${options.checkOnly ? 'differ' : 'rewritten'}, ` +
        `${report.live.length} still changing; UNWRITTEN entries cleared ${report.unwrittenCleared}, left ${report.unwrittenLeft}` +
        (report.largestItemBytes > 0 ? `; largest item written ${report.largestItemBytes} bytes` : ''),
    );
    for (const key of report.rewritten.slice(0, 20))
      console.log(`  ${options.checkOnly ? 'differs' : 'rewritten'}: ${key}`);
    for (const key of report.live.slice(0, 20)) console.log(`  still changing: ${key}`);
  }
  client.destroy();
  const live = reports.reduce((sum, report) => sum + report.live.length, 0);
  const differing = reports.reduce((sum, report) => sum + report.rewritten.length, 0);
  if (live > 0) {
    console.log(
      `${live} item(s) kept changing for ${options.rounds} rounds: run the same command again later.`,
    );
    return 3;
  }
  if (options.checkOnly && differing > 0) return 3;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const parseError = String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (error instanceof UsageError || error instanceof RangeError || parseError) {
      console.error(`${(error as Error).message}\n\n${usage}`);
      process.exit(2);
    }
    console.error(`rebuild failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
