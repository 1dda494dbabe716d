/**
 * Custom metrics the Lambda way: CloudWatch Embedded Metric Format (EMF), one
 * JSON document per line on stdout, which CloudWatch Logs turns into metrics.
 * No API call, no account-wide PutMetricData rate limit, no IAM grant.
 *
 * Powertools Metrics builds and validates each document, with the `service`
 * and `Stage` dimensions on every metric (alarm-rule.ts `stageDimensions`, the
 * same ones the alarms select). This module decides where the line goes
 * (stdout in Lambda; the local runtime and tests set a sink of their own) and
 * makes sure a document that cannot be built or written is logged and counted
 * (`MetricsEmitFailures`, alarmed in lib/constructs/alarms.ts) instead of lost.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { metricNames, stageDimensions } from '../domain/alarm-rule';
import type { MetricDocument } from '../domain/batch-metrics';

/** Receives one EMF document as one line of JSON. */
export type EmfSink = (line: string) => void;

/** Lambda's convention: CloudWatch Logs reads EMF from the function's stdout. */
const stdoutSink: EmfSink = (line) => {
  process.stdout.write(`${line}\n`);
};

let defaultSink: EmfSink = stdoutSink;

/**
 * Where emitters without a sink of their own write from now on; `undefined`
 * restores stdout. The local runtime points it at its metrics sink, tests at
 * a collector, so that neither prints a line per batch.
 */
export function setDefaultEmfSink(sink: EmfSink | undefined): void {
  defaultSink = sink ?? stdoutSink;
}

export interface MetricsEmitterOptions {
  readonly namespace: string;
  /** Value of the `Stage` dimension (the deployed stage; `local` under `npm start`). */
  readonly stage: string;
  readonly logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  /** @default the default sink (stdout unless setDefaultEmfSink changed it) */
  readonly sink?: EmfSink;
}

/** Writes metric documents as EMF; never throws. */
export class MetricsEmitter {
  readonly #metrics: Metrics;
  readonly #options: MetricsEmitterOptions;
  /** Documents that could not be emitted since this emitter was made. */
  failures = 0;

  constructor(options: MetricsEmitterOptions) {
    this.#options = options;
    const { service, ...stage } = stageDimensions(options.stage);
    this.#metrics = new Metrics({
      namespace: options.namespace,
      serviceName: service,
      defaultDimensions: stage,
      logger: options.logger,
    });
  }

  /** Emits each document as one EMF line; returns how many were written. */
  emit(documents: readonly MetricDocument[]): number {
    let written = 0;
    for (const document of documents) {
      try {
        this.#write(this.#serialize(document));
        written++;
      } catch (error) {
        this.#failed(document, error);
      }
    }
    return written;
  }

  #serialize(document: MetricDocument): string {
    const metrics = this.#metrics;
    try {
      // Powertools keeps a timestamp until it is set again.
      metrics.setTimestamp(document.timestampMs ?? Date.now());
      for (const [name, value] of Object.entries(document.dimensions ?? {})) {
        metrics.addDimension(name, value);
      }
      for (const sample of document.samples) {
        // CloudWatch drops a document with a non-finite value; Powertools does not check.
        if (!Number.isFinite(sample.value)) throw new RangeError(`${sample.name} is ${sample.value}`);
        metrics.addMetric(sample.name, sample.unit, sample.value);
      }
      return JSON.stringify(metrics.serializeMetrics());
    } finally {
      metrics.clearMetrics();
      metrics.clearDimensions();
    }
  }

  #write(line: string): void {
    (this.#options.sink ?? defaultSink)(line);
  }

  #failed(document: MetricDocument, error: unknown): void {
    this.failures++;
    this.#options.logger.error('metrics not emitted', {
      error: (error as Error).message,
      metrics: document.samples.map((sample) => sample.name),
      dimensions: document.dimensions,
    });
    // A document of our own, not built by the library that just failed.
    const { namespace, stage } = this.#options;
    const dimensions = stageDimensions(stage);
    try {
      this.#write(
        JSON.stringify({
          _aws: {
            Timestamp: Date.now(),
            CloudWatchMetrics: [
              {
                Namespace: namespace,
                Dimensions: [Object.keys(dimensions)],
                Metrics: [{ Name: metricNames.emitFailures, Unit: 'Count' }],
              },
            ],
          },
          ...dimensions,
          [metricNames.emitFailures]: 1,
        }),
      );
    } catch {
      // The sink itself fails (stdout closed): the log line above is all that can be done.
    }
  }
}
