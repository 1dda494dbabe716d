import { describe, expect, it } from 'vitest';
import { alarmWindow, countAlarmWindow } from '../../../functions/domain/alarm-rule';

const minutes = (entries: [number, number][]) => new Map(entries);

describe('the alarm window', () => {
  it('is the current minute and the 59 before it, over this hour item and the one before', () => {
    const window = alarmWindow(Date.parse('2026-11-01T13:20:30Z'));
    expect(window).toEqual({
      startMs: Date.parse('2026-11-01T12:21:00Z'),
      endMs: Date.parse('2026-11-01T13:21:00Z'),
      hourKeys: ['2026-11-01T12', '2026-11-01T13'],
    });
  });

  it('counts the minutes inside the window only, of the selected statuses', () => {
    const window = alarmWindow(Date.parse('2026-11-01T13:20:30Z'));
    const hours = [
      {
        bucket: '2026-11-01T12',
        perMinute: {
          success: minutes([
            [20, 100],
            [21, 3],
          ]),
          failure: minutes([[59, 2]]),
        },
      },
      {
        bucket: '2026-11-01T13',
        perMinute: {
          success: minutes([
            [20, 4],
            [21, 100],
          ]),
          failure: minutes([[0, 1]]),
        },
      },
    ];
    expect(countAlarmWindow(hours, window, ['success', 'failure'])).toEqual({ executions: 10, successes: 7 });
    expect(countAlarmWindow(hours, window, ['failure'])).toEqual({ executions: 3, successes: 0 });
  });
});
