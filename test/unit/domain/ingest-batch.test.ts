import { describe, expect, it } from 'vitest';
import { MAX_BATCH_ITEMS, planBatch } from '../../../functions/domain/ingest-batch';
import { runRecord } from '../../support/events';

describe('planBatch', () => {
  it('plans a single execution object as a batch of one', () => {
    const plan = planBatch(runRecord({ executionId: 'solo' }));
    expect(plan).toMatchObject({ kind: 'plan', received: 1, superseded: 0, rejected: [] });
    expect(plan.kind === 'plan' && plan.toStore.map((item) => item.record.executionId)).toEqual(['solo']);
  });

  it('validates each item of a batch on its own and reports rejected ones by index and id', () => {
    const plan = planBatch({
      executions: [runRecord({ executionId: 'a' }), runRecord({ executionId: 'b', status: 'ok' }), 'junk'],
    });
    expect(plan).toMatchObject({
      kind: 'plan',
      received: 3,
      rejected: [
        {
          index: 1,
          executionId: 'b',
          errors: [{ path: 'status', message: 'status must be "success" or "failure", got "ok"' }],
        },
        {
          index: 2,
          executionId: null,
          errors: [{ path: '', message: 'an execution must be a JSON object, got "junk"' }],
        },
      ],
    });
    expect(plan.kind === 'plan' && plan.toStore.map((item) => item.index)).toEqual([0]);
  });

  it('lets a later item with the same executionId win and counts the earlier one as superseded', () => {
    const plan = planBatch({
      executions: [
        runRecord({ executionId: 'x', model: 'first' }),
        runRecord({ executionId: 'y' }),
        runRecord({ executionId: 'x', model: 'second' }),
        runRecord({ executionId: 'x', model: 'third' }),
      ],
    });
    if (plan.kind !== 'plan') throw new Error(plan.kind);
    expect(plan.superseded).toBe(2);
    expect(plan.toStore.map(({ index, record }) => [index, record.executionId, record.model])).toEqual([
      [1, 'y', 'claude-sonnet-4'],
      [3, 'x', 'third'],
    ]);
  });

  it('keeps the earlier valid version when the later one is invalid, and rejects the later one', () => {
    const plan = planBatch({
      executions: [runRecord({ executionId: 'x' }), runRecord({ executionId: 'x', inputTokens: -1 })],
    });
    if (plan.kind !== 'plan') throw new Error(plan.kind);
    expect(plan.toStore.map((item) => item.index)).toEqual([0]);
    expect(plan.rejected.map((item) => item.index)).toEqual([1]);
    expect(plan.superseded).toBe(0);
  });

  it(`accepts exactly ${MAX_BATCH_ITEMS} items`, () => {
    const plan = planBatch({ executions: Array.from({ length: MAX_BATCH_ITEMS }, () => runRecord()) });
    expect(plan.kind === 'plan' && plan.toStore.length).toBe(MAX_BATCH_ITEMS);
  });

  it(`refuses ${MAX_BATCH_ITEMS + 1} items, naming the limit`, () => {
    expect(planBatch({ executions: Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => ({})) })).toEqual({
      kind: 'too_large',
      message: 'at most 100 executions per request, got 101',
    });
  });

  it.each<[string, unknown, string, string]>([
    ['an empty batch', { executions: [] }, 'executions', 'executions must hold at least 1 execution, got 0'],
    [
      'executions that is not an array',
      { executions: { a: 1 } },
      'executions',
      'executions must be an array, got an object',
    ],
    ['executions null', { executions: null }, 'executions', 'executions must be an array, got null'],
    [
      'a field next to executions',
      { executions: [runRecord()], dryRun: true },
      'dryRun',
      'unknown field "dryRun" next to "executions"; a batch is {"executions": [...]} with 1–100 execution objects',
    ],
    [
      'a top-level array',
      [runRecord()],
      '',
      'the body must be one execution object or {"executions": [...]} with 1–100 execution objects, got an array',
    ],
  ])('rejects %s as a whole, naming the field', (_, body, path, message) => {
    expect(planBatch(body)).toEqual({
      kind: 'invalid_shape',
      message,
      rejected: [{ index: 0, executionId: null, errors: [{ path, message }] }],
    });
  });

  it('treats an inherited executions member (from __proto__) as no batch at all', () => {
    const body = JSON.parse('{"__proto__": {"executions": []}}');
    const plan = planBatch(body);
    expect(plan).toMatchObject({ kind: 'plan', received: 1, rejected: [{ index: 0 }] });
  });

  it('echoes a long executionId of a rejected item cut to 128 characters', () => {
    const plan = planBatch({ executions: [{ executionId: 'i'.repeat(10_000) }] });
    expect(plan.kind === 'plan' && plan.rejected[0]?.executionId).toBe('i'.repeat(128));
  });
});
