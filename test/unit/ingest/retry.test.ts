import { describe, expect, it } from 'vitest';
import { isTransientError, RetriesExhaustedError, withRetry } from '../../../functions/store/retry';

const noSleep = async () => undefined;
const named = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, ...extra });

describe('isTransientError', () => {
  it.each([
    ['throttling', named('ProvisionedThroughputExceededException')],
    ['a request limit', named('RequestLimitExceeded')],
    ['a 500', named('InternalServerError')],
    ['any 5xx status', named('Whatever', { $metadata: { httpStatusCode: 503 } })],
    ['an SDK-marked retryable error', named('Odd', { $retryable: { throttling: true } })],
    ['a reset connection', named('Error', { code: 'ECONNRESET' })],
    ['a transient cause', named('Wrapper', { cause: named('ThrottlingException') })],
  ])('retries %s', (_, error) => {
    expect(isTransientError(error)).toBe(true);
  });

  it.each([
    ['a failed condition', named('ConditionalCheckFailedException', { $metadata: { httpStatusCode: 400 } })],
    ['a validation error', named('ValidationException', { $metadata: { httpStatusCode: 400 } })],
    ['access denied', named('AccessDeniedException')],
    ['a non-error', 'throttled'],
  ])('does not retry %s', (_, error) => {
    expect(isTransientError(error)).toBe(false);
  });
});

describe('withRetry', () => {
  it('returns the first success after transient failures', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw named('ThrottlingException');
        return 'done';
      },
      { sleep: noSleep },
    );
    expect([result, calls]).toEqual(['done', 3]);
  });

  it('throws a permanent error at once', async () => {
    let calls = 0;
    const failing = withRetry(
      async () => {
        calls++;
        throw named('ValidationException');
      },
      { sleep: noSleep },
    );
    await expect(failing).rejects.toThrow('ValidationException');
    expect(calls).toBe(1);
  });

  it('gives up after the configured attempts with the last error as cause', async () => {
    const failing = withRetry(
      async () => {
        throw named('ThrottlingException');
      },
      { attempts: 4, sleep: noSleep },
    );
    await expect(failing).rejects.toMatchObject({
      name: 'RetriesExhaustedError',
      attempts: 4,
      cause: { name: 'ThrottlingException' },
    });
  });

  it('backs off exponentially with full jitter, capped', async () => {
    const delays: number[] = [];
    await withRetry(
      async () => {
        throw named('ThrottlingException');
      },
      { attempts: 6, baseDelayMs: 10, maxDelayMs: 50, sleep: async (ms) => void delays.push(ms) },
    ).catch(() => undefined);
    expect(delays).toHaveLength(5);
    [10, 20, 40, 50, 50].forEach((cap, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(0);
      expect(delays[i]).toBeLessThanOrEqual(cap);
    });
  });

  it('aborts an attempt that hangs past the deadline and gives up', async () => {
    const hanging = withRetry(
      (signal) =>
        new Promise((_, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason));
        }),
      { deadline: Date.now() + 50, sleep: noSleep },
    );
    await expect(hanging).rejects.toBeInstanceOf(RetriesExhaustedError);
  });

  it('makes no attempt when the deadline has passed', async () => {
    let calls = 0;
    const late = withRetry(
      async () => {
        calls++;
      },
      { deadline: Date.now() - 1 },
    );
    await expect(late).rejects.toMatchObject({ attempts: 0 });
    expect(calls).toBe(0);
  });
});
