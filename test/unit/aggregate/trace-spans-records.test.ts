import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readStreamRecord } from '../../../functions/store/stream-records';

const traceSpansItem = {
  executionId: 'spans#5b8efff798038103d269b633813fc60c',
  kind: 'traceSpans',
  spans: '[]',
  version: 1,
};

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE'): DynamoDBRecord {
  const image = marshall(traceSpansItem) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'];
  return {
    eventName,
    dynamodb: {
      Keys: { executionId: { S: traceSpansItem.executionId } },
      SequenceNumber: '100',
      ...(eventName === 'INSERT' ? {} : { OldImage: image }),
      ...(eventName === 'REMOVE' ? {} : { NewImage: image }),
    },
  };
}

describe('stream records of the spans waiting for the rest of their trace', () => {
  it.each(['INSERT', 'MODIFY', 'REMOVE'] as const)('are neither a run nor poison on %s', (eventName) => {
    expect(readStreamRecord(record(eventName))).toEqual({});
  });
});
