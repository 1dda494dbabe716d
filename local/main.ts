/**
 * `npm start`: the whole system on this machine, no AWS account needed.
 * See DESIGN.md, "Running it without AWS", and local/runtime.ts.
 */
import { type CliOptions, parseCliOptions, usage } from './cli.js';
import { JavaMissingError } from './dynamodb-local.js';
import { type LocalRuntime, PortInUseError, startLocalRuntime } from './runtime.js';

/** A progress bar on a terminal; a line every 10 % elsewhere (CI logs). */
function seedProgressReporter(quiet: boolean): {
  update: (done: number, total: number) => void;
  end: () => void;
} {
  const tty = process.stdout.isTTY === true;
  let lastDecile = -1;
  let drawn = false;
  const startedAt = Date.now();
  return {
    update(done, total) {
      if (quiet || total === 0) return;
      const fraction = done / total;
      const rate = Math.round(done / Math.max(0.001, (Date.now() - startedAt) / 1000));
      if (tty) {
        const width = 30;
        const filled = Math.round(fraction * width);
        process.stdout.write(
          `\rseeding demo data [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)} % ` +
            `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} runs, ${rate.toLocaleString('en-US')} runs/s `,
        );
        drawn = true;
        return;
      }
      const decile = Math.floor(fraction * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        console.log(`seeding demo data: ${decile * 10} % (${done}/${total} runs, ${rate} runs/s)`);
      }
    },
    end() {
      if (drawn) process.stdout.write('\n');
      drawn = false;
    },
  };
}

async function main(): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliOptions(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options.help) {
    console.log(usage);
    return 0;
  }
  if (options.runLimits) process.env.RUN_LIMITS = options.runLimits;

  const seedProgress = seedProgressReporter(options.quiet);
  let runtime: LocalRuntime | undefined;
  let stopRequested = false;
  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((done) => {
    resolveStopped = done;
  });
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // npm and tsx relay the terminal's Ctrl-C, so one keypress can arrive twice;
    // only a second press a moment later forces the exit.
    if (stopRequested) {
      if (Date.now() - firstSignalAt > 1_000) {
        console.error(`\n${signal} again: exiting now`);
        process.exit(130); // the exit hook in dynamodb-local.ts still kills Java
      }
      return;
    }
    stopRequested = true;
    firstSignalAt = Date.now();
    seedProgress.end();
    if (!options.quiet) console.log(`\n${signal}: stopping ...`);
    const stopping = runtime ? runtime.stop() : Promise.resolve();
    stopping.then(
      () => {
        if (!options.quiet) console.log('stopped');
        resolveStopped(0);
      },
      (error: unknown) => {
        console.error(`error while stopping: ${(error as Error).message}`);
        resolveStopped(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  try {
    runtime = await startLocalRuntime({
      port: options.port,
      demo: options.demo,
      demoDays: options.demoDays,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      streamShards: options.streamShards,
      quiet: options.quiet,
      log: (line) => {
        seedProgress.end();
        console.log(line);
      },
      onSeedProgress: seedProgress.update,
    });
  } catch (error) {
    if (error instanceof JavaMissingError || error instanceof PortInUseError) {
      console.error(`\n${error.message}`);
      return 1;
    }
    console.error(`\nthe local runtime failed to start: ${(error as Error).stack ?? error}`);
    return 1;
  }
  if (stopRequested) {
    // Ctrl-C arrived during start-up.
    await runtime.stop();
    return 0;
  }

  console.log(`ready at ${runtime.url}`);
  if (options.demo) {
    runtime.seeding.then((report) => {
      seedProgress.end();
      if (report && !options.quiet && !stopRequested) {
        console.log(
          `demo data: ${report.runs.toLocaleString('en-US')} runs in ${report.seconds.toFixed(1)} s ` +
            `(${Math.round(report.runsPerSecond).toLocaleString('en-US')} runs/s; ${report.accepted} new, ` +
            `${report.duplicates} already there${report.rejected + report.failedRequests > 0 ? `, ${report.rejected} rejected, ${report.failedRequests} failed requests` : ''})`,
        );
      }
    });
  }
  return stopped;
}

// The AWS SDK warns on every start that it will drop Node 20 in 2027; the
// README states the supported versions, so here it is only noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.on('uncaughtException', (error) => {
  console.error(`uncaught exception: ${error.stack ?? error}`);
  process.exit(1);
});

main().then((code) => process.exit(code));
