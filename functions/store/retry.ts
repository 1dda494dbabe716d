/**
 * Retries DynamoDB calls that failed for a reason that may pass: throttling,
 * a 5xx, or a connection that dropped. Our own loop, rather than the SDK's,
 * so that the give-up point is explicit and the ingest handler can turn it
 * into a 503 with Retry-After.
 */

const RETRYABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
  'LimitExceededException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** True for errors worth another attempt. */
export function isTransientError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const details = error as Error & {
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if (RETRYABLE_NAMES.has(error.name) || details.$retryable) return true;
  if (details.code && RETRYABLE_CODES.has(details.code)) return true;
  const status = details.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  const cause = (error as Error & { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isTransientError(cause);
}

/** Thrown when every attempt failed with a transient error. */
export class RetriesExhaustedError extends Error {
  override readonly name = 'RetriesExhaustedError';
  constructor(
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(
      `gave up after ${attempts} attempts: ${(cause as Error)?.name ?? 'error'} ${(cause as Error)?.message ?? ''}`,
    );
  }
}

export interface RetryOptions {
  /** Attempts in all, the first included. @default 5 */
  readonly attempts?: number;
  /** First backoff; doubles each time, with full jitter. @default 25 ms */
  readonly baseDelayMs?: number;
  /** Cap of one backoff. @default 1000 ms */
  readonly maxDelayMs?: number;
  /**
   * Epoch milliseconds after which no attempt is started or awaited: an
   * attempt in flight is aborted then. Lets a handler answer 503 before its
   * own timeout turns the request into an unexplained 5xx. @default none
   */
  readonly deadline?: number;
  /** Waits between attempts; tests pass one that returns at once. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, fails for good, or the attempts or the
 * deadline run out (RetriesExhaustedError). The operation gets an AbortSignal
 * that fires at the deadline; pass it to the SDK's `send`.
 */
export async function withRetry<T>(
  operation: (signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const { attempts = 5, baseDelayMs = 25, maxDelayMs = 1_000, deadline, sleep = defaultSleep } = options;
  let lastError: unknown;
  let made = 0;
  while (made < attempts) {
    const remainingMs = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
    if (remainingMs <= 0) break;
    const signal = Number.isFinite(remainingMs) ? AbortSignal.timeout(remainingMs) : undefined;
    made++;
    try {
      return await operation(signal);
    } catch (error) {
      if (!isTransientError(error) && !signal?.aborted) throw error;
      lastError = error;
    }
    if (made >= attempts) break;
    const delayMs = Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (made - 1));
    if (deadline !== undefined && Date.now() + delayMs >= deadline) break;
    await sleep(delayMs);
  }
  throw new RetriesExhaustedError(made, lastError);
}
