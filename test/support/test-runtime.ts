/**
 * The local runtime in this process, as the integration tests run it: on a
 * free port, with no demo data, no dashboard build and no log lines; each
 * test adds what it is about (shards, poller settings, fault hooks).
 */
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../local/runtime';

export function startTestRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  return startLocalRuntime({
    port: 0,
    demo: false,
    quiet: true,
    buildFrontend: false,
    log: () => {},
    ...options,
  });
}
