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
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { attempts = 5, baseDelayMs = 25, maxDelayMs = 1_000, sleep = defaultSleep } = options;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransientError(error)) throw error;
      lastError = error;
      if (attempt < attempts)
        await sleep(Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
    }
  }
  throw new RetriesExhaustedError(attempts, lastError);
}
