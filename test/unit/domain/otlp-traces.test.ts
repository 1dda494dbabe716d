import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type GenAiSpan,
  MAX_SPANS_PER_EXPORT,
  nanosToInstant,
  parseOtlpJsonExport,
  planTraceRuns,
} from '../../../functions/domain/otlp-traces';

const agentTrace: unknown = JSON.parse(
  readFileSync(new URL('./fixtures/otlp-agent-trace.json', import.meta.url), 'utf8'),
);
const TRACE = '5b8efff798038103d269b633813fc60c';

function spansOf(body: unknown): GenAiSpan[] {
  const parsed = parseOtlpJsonExport(body);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.spans;
}

function exportOf(spans: unknown[]): unknown {
  return { resourceSpans: [{ scopeSpans: [{ spans }] }] };
}

describe('parseOtlpJsonExport and planTraceRuns', () => {
  it('turns each invoke_agent span of the golden export into exactly its run', () => {
    const plan = planTraceRuns(spansOf(agentTrace));

    expect(plan.rejected).toEqual([]);
    expect(plan.toStore.map((item) => item.record)).toEqual([
      {
        executionId: `${TRACE}:eee19b7ec3c1b174`,
        startTime: '2026-11-01T10:00:00.000000000Z',
        endTime: '2026-11-01T10:01:30.000000123Z',
        status: 'success',
        // Two of its three chat spans used sonnet; the agent span names no model.
        model: 'claude-sonnet-4-5',
        // (1200 − 800 − 100) + 2000 + 100: cached tokens come out of input_tokens.
        inputTokens: 2400,
        outputTokens: 820,
        cacheReadTokens: 800,
        cacheWriteTokens: 100,
        costUsd: null,
        // The chat under execute_tool counts; the reviewer sub-agent's chat does not.
        llmCalls: 3,
        toolCalls: 1,
        filesModified: 3,
      },
      {
        executionId: `${TRACE}:eee19b7ec3c1b179`,
        startTime: '2026-11-01T10:00:10.000000000Z',
        endTime: '2026-11-01T10:00:20.000000000Z',
        status: 'failure',
        model: 'claude-haiku-4-5',
        inputTokens: 100,
        outputTokens: 40,
        cacheReadTokens: 300,
        cacheWriteTokens: 0,
        costUsd: null,
        llmCalls: 1,
        toolCalls: 0,
        filesModified: 0,
        errorType: 'ReviewRejected',
        errorMessage: 'the patch breaks 2 tests',
      },
    ]);
  });

  it('gives the same run for an agent span sent twice in one export', () => {
    const body = agentTrace as { resourceSpans: [{ scopeSpans: [{ spans: unknown[] }] }] };
    const spans = body.resourceSpans[0].scopeSpans[0].spans;

    const plan = planTraceRuns(spansOf(exportOf([...spans, spans[0]])));

    expect(plan.toStore.map((item) => item.record.executionId)).toEqual([
      `${TRACE}:eee19b7ec3c1b174`,
      `${TRACE}:eee19b7ec3c1b179`,
    ]);
  });

  it('rejects an agent span without any model, naming the span and the field', () => {
    const agent = {
      traceId: TRACE,
      spanId: '00000000000000a1',
      startTimeUnixNano: '1793527200000000000',
      endTimeUnixNano: '1793527201000000000',
      attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'invoke_agent' } }],
    };

    const plan = planTraceRuns(spansOf(exportOf([agent])));

    expect(plan.toStore).toEqual([]);
    expect(plan.rejected).toEqual([
      {
        span: `${TRACE}:00000000000000a1`,
        errors: [expect.objectContaining({ path: 'model' })],
        // Ingest lets it wait for a chat span naming the model when the trace's spans are kept.
        noModelYet: true,
      },
    ]);
  });

  it('rejects an unreadable span by its position and keeps the others', () => {
    const parsed = parseOtlpJsonExport(exportOf([{ traceId: 'xyz', spanId: '00000000000000a1' }]));

    expect(parsed.ok && parsed.spans).toEqual([]);
    expect(parsed.ok && parsed.rejected[0]?.errors[0]?.path).toBe(
      'resourceSpans.0.scopeSpans.0.spans.0.traceId',
    );
  });

  it.each([
    ['an array', []],
    ['a string', 'spans'],
    ['null', null],
    ['resourceSpans not an array', { resourceSpans: {} }],
    ['spans not an array', { resourceSpans: [{ scopeSpans: [{ spans: 5 }] }] }],
  ])('refuses %s as an export', (_, body) => {
    const parsed = parseOtlpJsonExport(body);

    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(/OTLP trace export/);
  });

  it(`refuses more than ${MAX_SPANS_PER_EXPORT} spans`, () => {
    const parsed = parseOtlpJsonExport(exportOf(new Array(MAX_SPANS_PER_EXPORT + 1).fill({})));

    expect(parsed).toEqual({ ok: false, message: expect.stringMatching(/at most 10000 spans/) });
  });

  it('does not loop on spans that are each other’s parents', () => {
    const span = (id: string, parent: string, operation: string) => ({
      traceId: TRACE,
      spanId: id,
      parentSpanId: parent,
      startTimeUnixNano: '1',
      endTimeUnixNano: '2',
      attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: operation } }],
    });

    const plan = planTraceRuns(
      spansOf(
        exportOf([
          span('00000000000000a1', '00000000000000a2', 'chat'),
          span('00000000000000a2', '00000000000000a1', 'chat'),
        ]),
      ),
    );

    expect(plan).toEqual({ toStore: [], rejected: [] });
  });
});

describe('nanosToInstant', () => {
  it('keeps nanoseconds', () => {
    expect(nanosToInstant(1_793_527_200_000_000_001n)).toBe('2026-11-01T10:00:00.000000001Z');
  });
});
