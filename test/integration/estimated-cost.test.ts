/**
 * Estimated costs through the local runtime (`npm start`), with a price
 * table of its own in MODEL_PRICES: runs with and without a cost go in, and
 * /api/summary and /api/models show reported and estimated cost apart,
 * exactly, also after a correction adds the cost a run first left out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuntimeProcess, startRuntime } from '../support/runtime-harness';

const PRICES = {
  takenOn: '2026-12-02',
  source: 'the test',
  models: { priced: { input: 2, output: 10, cacheRead: 0.2, cacheWrite: 2.5 } },
};
const DAY = '2026-11-10';

let runtime: RuntimeProcess;

beforeAll(async () => {
  runtime = await startRuntime({ env: { MODEL_PRICES: JSON.stringify(PRICES) } });
}, 150_000);
afterAll(async () => {
  await runtime?.stop();
});

function run(executionId: string, model: string, costUsd: number | null, tokens: number[]) {
  const [inputTokens = 0, outputTokens = 0, cacheReadTokens = 0, cacheWriteTokens = 0] = tokens;
  return {
    executionId,
    startTime: `${DAY}T10:00:00Z`,
    endTime: `${DAY}T10:01:00Z`,
    status: 'success',
    model,
    inputTokens,
    outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
    costUsd,
  };
}

async function post(executions: unknown[]) {
  const response = await fetch(`${runtime.baseUrl}/api/executions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ executions }),
  });
  expect(response.status, await response.clone().text()).toBe(202);
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${runtime.baseUrl}${path}?from=${DAY}&to=${DAY}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** Polls (bounded) until the summary counts `executions` runs with `estimated` estimates: the stream aggregates shortly after. */
async function settledSummary(executions: number, estimated: number) {
  let body = await getJson('/api/summary');
  const settled = () =>
    body.executions === executions &&
    (body.cost as { runsWithEstimatedCost: number }).runsWithEstimatedCost === estimated;
  for (let attempt = 0; attempt < 200 && !settled(); attempt++) {
    await new Promise((done) => setTimeout(done, 100));
    body = await getJson('/api/summary');
  }
  return body;
}

describe('estimated costs on the local runtime', () => {
  it('shows reported and estimated cost apart in summary and models, exactly', async () => {
    await post([
      // Reported: never estimated, even on a priced model.
      run('reported-priced', 'priced', 0.5, [1_000_000]),
      // $2 × 0.1 + $10 × 0.02 + $0.20 × 0.05 + $2.50 × 0.001 = $0.4125
      run('estimated', 'priced', null, [100_000, 20_000, 50_000, 1_000]),
      // A dated snapshot of a priced model: 333 input tokens at $2 per million = $0.000666
      run('estimated-snapshot', 'priced-20250101', null, [333]),
      // No price for the model: the cost stays unknown.
      run('unknown', 'unpriced', null, [1_000]),
      run('reported-unpriced', 'unpriced', 0.25, [1_000]),
    ]);

    const summary = await settledSummary(5, 2);
    expect(summary.cost).toEqual({
      totalUsd: 1.163166,
      reportedUsd: 0.75,
      estimatedUsd: 0.413166,
      perRunUsd: 0.2326332,
      perSuccessUsd: 0.2326332,
      runsWithEstimatedCost: 2,
      runsWithUnknownCost: 1,
    });

    const { models } = (await getJson('/api/models')) as {
      models: { model: string; costUsd: number; cost: unknown }[];
    };
    expect(models.map(({ model, costUsd, cost }) => ({ model, costUsd, cost }))).toEqual([
      {
        model: 'priced',
        costUsd: 0.9125,
        cost: {
          totalUsd: 0.9125,
          reportedUsd: 0.5,
          estimatedUsd: 0.4125,
          runsWithEstimatedCost: 1,
          runsWithUnknownCost: 0,
        },
      },
      {
        model: 'unpriced',
        costUsd: 0.25,
        cost: {
          totalUsd: 0.25,
          reportedUsd: 0.25,
          estimatedUsd: 0,
          runsWithEstimatedCost: 0,
          runsWithUnknownCost: 1,
        },
      },
      {
        model: 'priced-20250101',
        costUsd: 0.000666,
        cost: {
          totalUsd: 0.000666,
          reportedUsd: 0,
          estimatedUsd: 0.000666,
          runsWithEstimatedCost: 1,
          runsWithUnknownCost: 0,
        },
      },
    ]);

    // A run says what the agent reported, and its estimate apart.
    const { runs } = (await getJson('/api/runs')) as {
      runs: { executionId: string; costUsd: number | null; estimatedCostUsd?: number }[];
    };
    const costs = Object.fromEntries(
      runs.map(({ executionId, costUsd, estimatedCostUsd }) => [executionId, { costUsd, estimatedCostUsd }]),
    );
    expect(costs).toEqual({
      'reported-priced': { costUsd: 0.5, estimatedCostUsd: undefined },
      estimated: { costUsd: null, estimatedCostUsd: 0.4125 },
      'estimated-snapshot': { costUsd: null, estimatedCostUsd: 0.000666 },
      unknown: { costUsd: null, estimatedCostUsd: undefined },
      'reported-unpriced': { costUsd: 0.25, estimatedCostUsd: undefined },
    });
  });

  it('drops the estimate when a correction reports the cost', async () => {
    await post([run('estimated', 'priced', 0.4, [100_000, 20_000, 50_000, 1_000])]);
    const summary = await settledSummary(5, 1);
    expect(summary.cost).toMatchObject({
      totalUsd: 1.150666,
      reportedUsd: 1.15,
      estimatedUsd: 0.000666,
      runsWithEstimatedCost: 1,
      runsWithUnknownCost: 1,
    });
  });
});
