import { describe, expect, it } from 'vitest';
import { parseCliOptions, UsageError } from '../../../local/cli';

describe('parseCliOptions', () => {
  it('defaults to port 3000, demo data, in-memory store', () => {
    expect(parseCliOptions([], {})).toEqual({
      port: 3000,
      demo: true,
      demoDays: 30,
      dataDir: undefined,
      streamShards: 1,
      runLimits: undefined,
      quiet: false,
      help: false,
    });
  });

  it('reads --port, --no-demo, --data-dir and --demo-days, and PORT when --port is absent', () => {
    expect(parseCliOptions(['--port', '3999', '--no-demo', '--data-dir', '.local-data'], {})).toMatchObject({
      port: 3999,
      demo: false,
      dataDir: '.local-data',
    });
    expect(parseCliOptions(['--demo-days', '90'], { PORT: '4000' })).toMatchObject({
      port: 4000,
      demoDays: 90,
    });
  });

  it('reads --run-limits as the complete limits, and refuses limits that are not ones', () => {
    expect(JSON.parse(parseCliOptions(['--run-limits', '{"maxCostUsd":50}'], {}).runLimits ?? '')).toEqual({
      clockSkewSeconds: 300,
      maxDurationHours: 24,
      maxCostUsd: 50,
      maxTokens: 2_000_000,
    });
    expect(() => parseCliOptions(['--run-limits', '{"maxTokens":1e9}'], {})).toThrow(
      /maxTokens must be at most/,
    );
    expect(() => parseCliOptions(['--run-limits', 'big'], {})).toThrow(UsageError);
  });

  it('reads --stream-shards, and STREAM_SHARDS when the flag is absent', () => {
    expect(parseCliOptions(['--stream-shards', '4'], { STREAM_SHARDS: '2' }).streamShards).toBe(4);
    expect(parseCliOptions([], { STREAM_SHARDS: '16' }).streamShards).toBe(16);
  });

  it.each([
    [['--port', 'abc']],
    [['--port', '70000']],
    [['--bogus']],
    [['--demo-days', '0']],
    [['--stream-shards', '0']],
    [['--stream-shards', '65']],
    [['--stream-shards', '2.5']],
  ])('rejects %j with a UsageError', (argv) => {
    expect(() => parseCliOptions(argv, {})).toThrow(UsageError);
  });
});
