/**
 * The local runtime in this process, as the integration tests run it: on a
 * free port, with no demo data, no dashboard build and no log lines; each
 * test adds what it is about (shards, poller settings, fault hooks).
 */
import { afterAll, beforeAll } from 'vitest';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../local/runtime';
import { HttpClient } from '../reliability/lib/http';

function startTestRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  return startLocalRuntime({
    port: 0,
    demo: false,
    quiet: true,
    buildFrontend: false,
    log: () => {},
    ...options,
  });
}

/** A test runtime and an HTTP client to it, for the tests of one describe block. */
export interface TestSystem {
  readonly runtime: LocalRuntime;
  readonly http: HttpClient;
}

/**
 * Starts a test runtime before the enclosing describe block's tests and stops
 * it after them; its fields are set once the block's first test runs.
 */
export function useTestRuntime(options: LocalRuntimeOptions = {}): TestSystem {
  const system = {} as { runtime: LocalRuntime; http: HttpClient };
  beforeAll(async () => {
    system.runtime = await startTestRuntime(options);
    system.http = new HttpClient(system.runtime.url);
  }, 120_000);
  afterAll(async () => {
    system.http?.close();
    await system.runtime?.stop();
  }, 60_000);
  return system;
}
