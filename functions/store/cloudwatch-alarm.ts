/**
 * The deployed CloudWatch alarm's own state, for GET /api/alarm.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AlarmState } from '../domain/alarm-rule';

const cloudwatch = new CloudWatchClient({});

/** The alarm's state, or null when CloudWatch does not know the alarm. */
export async function readAlarmState(alarmName: string): Promise<AlarmState | null> {
  const output = await cloudwatch.send(
    new DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
  );
  const alarm = output.MetricAlarms?.[0] ?? output.CompositeAlarms?.[0];
  return (alarm?.StateValue as AlarmState | undefined) ?? null;
}
