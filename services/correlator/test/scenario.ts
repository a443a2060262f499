import type { ErpWorkOrderV1, ItSecurityEventV1, OtEventV1, TelemetryEnrichedV1 } from '@weir/contracts';
import { call, edrFinding, logon, otEvent, session, temperature, workOrder, write } from './fixtures';

/** The inputs of one scripted day. */
export interface Day {
  workOrders: ErpWorkOrderV1[];
  it: ItSecurityEventV1[];
  ot: OtEventV1[];
  telemetry: TelemetryEnrichedV1[];
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * A normal plant day (07:00-19:00): MFA remote logons and local logons,
 * OPC UA sessions from the known HMI/SCADA/engineering hosts, setpoint
 * writes under an open work order, alarms, one connector gap, a low-severity
 * EDR finding, a temperature sample per minute within its limits. Eight days
 * before, the same hosts open sessions (the first-seen rule's learning window).
 * With `attack`, the day also holds the attack steps (listed in the test).
 */
export function scriptedDay(day: string, attack: boolean): Day {
  const at = (hhmm: string, d = day): string => `${d}T${hhmm}:00Z`;
  const before = new Date(Date.parse(`${day}T00:00:00Z`) - 8 * 86_400_000).toISOString().slice(0, 10);
  const ot: OtEventV1[] = [session(at('09:00', before), '10.20.0.15'), session(at('09:05', before), '10.20.0.16', 'scada'), session(at('09:10', before), '10.99.0.5', 'engineer1')];
  const it: ItSecurityEventV1[] = [];
  const telemetry: TelemetryEnrichedV1[] = [];
  const workOrders = [workOrder(`WO-${day}-1`, 'filler1', at('06:00'), at('14:00'))];
  for (let h = 7; h < 19; h++) {
    for (let m = 0; m < 60; m += 10) {
      const t = at(`${pad(h)}:${pad(m)}`);
      if (m % 20 === 0) it.push(logon(`${day}-l-${h}-${m}`, t, 'engineer1', { mfa: true, remote: true, vpnIp: '10.99.0.5' }));
      else it.push(logon(`${day}-l-${h}-${m}`, t, 'clerk1', { mfa: false, remote: false, ip: '10.10.1.20', success: m !== 50 }));
    }
    if (h >= 8) {
      ot.push(session(at(`${pad(h)}:00`), '10.20.0.15'));
      ot.push(session(at(`${pad(h)}:02`), '10.20.0.16', 'scada'));
    }
    if (h >= 8 && h < 14) for (let m = 0; m < 60; m += 15) ot.push(write(at(`${pad(h)}:${pad(m + 1)}`), 'Filler1.SpeedSetpoint', '10.20.0.15', 'operator1', 400, 400 + m));
    for (let m = 0; m < 60; m++) telemetry.push(temperature(at(`${pad(h)}:${pad(m)}`), 4 + Math.sin((h * 60 + m) / 30), h >= 6 && h < 14 ? `WO-${day}-1` : null));
  }
  ot.push(session(at('09:25'), '10.99.0.5', 'engineer1'));
  ot.push(write(at('09:30'), 'Filler1.SpeedSetpoint', '10.99.0.5', 'engineer1', 450, 480));
  ot.push(otEvent(at('10:00'), 'alarm', 'ExclusiveLimitAlarmType', { nodeId: 'ns=3;s=Line1.Filler1.Temperature', alarm: { conditionId: 'TempAlarm', active: true, suppressed: false } }));
  ot.push(otEvent(at('10:05'), 'alarm', 'ExclusiveLimitAlarmType', { nodeId: 'ns=3;s=Line1.Filler1.Temperature', alarm: { conditionId: 'TempAlarm', active: false, suppressed: false } }));
  ot.push(otEvent(at('12:30'), 'gap', 'connector.gap', { gap: { from: at('12:25'), to: at('12:30'), reason: 'BadHistoryOperationUnsupported' } }));
  it.push(edrFinding(`${day}-edr-pua`, at('12:00'), 'PUA adware bundle quarantined', 2));
  if (attack) {
    it.push(logon(`${day}-attack-vpn`, at('15:00'), 'contractor7', { mfa: false, remote: true, ip: '198.51.100.23', vpnIp: '10.99.0.77' }));
    ot.push(session(at('15:05'), '10.99.0.77', 'contractor7'));
    ot.push(write(at('15:10'), 'Capper1.OperatingMode', '10.99.0.77', 'contractor7', 0, 2));
    ot.push(session(at('16:00'), '10.50.0.66', 'anonymous'));
    // The 17:00-17:02 samples run hot: 12.5 °C against a high limit of 8.
    for (const s of telemetry) if (Date.parse(s.sourceTime) >= Date.parse(at('17:00')) && Date.parse(s.sourceTime) <= Date.parse(at('17:02'))) s.value = 12.5;
    ot.push(call(at('17:30'), 'Filler1.TempAlarm', 'TimedShelve', '10.20.0.15', 'operator1'));
    ot.push(write(at('17:31'), 'Filler1.TempHighLimit', '10.20.0.15', 'operator1', 8, 30));
    it.push(edrFinding(`${day}-edr-ransom`, at('18:00'), 'LockBit ransomware encrypted files on ENG-WS-03', 5));
    ot.push(otEvent(at('18:20'), 'gap', 'connector.gap', { gap: { from: at('18:05'), to: at('18:20'), reason: 'ConnectionLost' } }));
    ot.push(call(at('18:50'), 'Press1.Program', 'DownloadProgram', '10.99.0.5', 'engineer1'));
  }
  return { workOrders, it, ot, telemetry };
}
