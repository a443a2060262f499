import { describe, expect, it } from 'vitest';
import type { DetectionEvent, FieldValue } from '../detection-event';
import { normaliseItEvent } from '../normalise/it-event.normaliser';
import { normaliseOtEvent } from '../normalise/ot-event.normaliser';
import { BUILTIN_RULES_DIR, loadRuleDirectories } from '../rules/rule-loader';
import { DetectionEngine } from './detection.engine';
import { buildRuleSet } from './rule-set';

const builtin = loadRuleDirectories([BUILTIN_RULES_DIR]);
const set = buildRuleSet(builtin.rules);
const T0 = Date.parse('2026-11-30T10:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const vpnLogon = (t: number) =>
  normaliseItEvent({ uid: `l${t}`, class_uid: 3002, category_uid: 3, activity_id: 1, time: iso(t), severity_id: 1, status_id: 1, user: { name: 'c7' }, src_endpoint: { ip: '198.51.100.1', intermediate_ips: ['10.99.0.7'] }, is_mfa: false, is_remote: true, metadata: { product: { name: 'vpn' }, version: '1.3.0' } });
const otWrite = (t: number, node = 'ns=3;s=Line1.Capper1.Speed') =>
  normaliseOtEvent({ eventId: `w${t}`, sourceId: 'plc', kind: 'audit', type: 'AuditWriteUpdateEventType', time: iso(t), severity: 500, message: '', nodeId: node, actor: { user: 'operator9', clientAddress: '10.99.0.7:50123' }, attributes: {} }, () => ({ id: 'capper1', path: 'acme/capper1' }));
const ids = (alerts: { finding_info: { analytic?: { uid: string } | undefined } }[]) => alerts.map((a) => a.finding_info.analytic!.uid).sort();

describe('built-in rules', () => {
  it('load without problems and every alerting rule carries ATT&CK for ICS technique ids', () => {
    expect(builtin.problems).toEqual([]);
    expect(set.problems).toEqual([]);
    const alerting = set.rules.filter((r) => set.alerting.has(r.id));
    expect(alerting.map((r) => r.id).sort()).toEqual([
      'weir-ics-alarm-settings-changed',
      'weir-ics-alarm-suppressed',
      'weir-ics-loss-of-view-during-it-incident',
      'weir-ics-mode-change-without-work-order',
      'weir-ics-new-opcua-client',
      'weir-ics-program-download-without-work-order',
      'weir-ics-remote-access-then-ot-change-by-address',
      'weir-ics-remote-access-then-ot-change-by-user',
      'weir-ics-value-beyond-safe-limit',
      'weir-ics-write-without-work-order',
    ]);
    for (const r of alerting) expect(r.techniques.every((t) => /^T0\d{3}$/.test(t)) && r.techniques.length > 0).toBe(true);
  });
});

describe('DetectionEngine', () => {
  it('joins a VPN logon and an OT write that arrive out of order from two streams', () => {
    const engine = new DetectionEngine(set, { expectedInputs: ['it', 'ot'] });
    const w = { ...otWrite(T0 + 10 * 60_000), stream: 'ot' };
    // The OT stream runs hours ahead before the IT stream delivers the logon.
    const later = { ...otWrite(T0 + 5 * 3_600_000, 'ns=3;s=Line1.Capper1.Other'), stream: 'ot' };
    const alerts = [...engine.process(w), ...engine.process(later), ...engine.process({ ...vpnLogon(T0), stream: 'it' })];
    expect(ids(alerts).filter((i) => i.startsWith('weir-ics-remote'))).toEqual(['weir-ics-remote-access-then-ot-change-by-address']);
  });

  it('keeps a window across snapshot and restore (JSON round trip), and alerts once', () => {
    const a = new DetectionEngine(set);
    expect(a.process(vpnLogon(T0))).toEqual([]);
    const state = JSON.parse(JSON.stringify(a.snapshot())) as unknown;
    const b = new DetectionEngine(set);
    b.restore(state);
    const alerts = b.process(otWrite(T0 + 20 * 60_000));
    expect(ids(alerts)).toEqual(['weir-ics-remote-access-then-ot-change-by-address', 'weir-ics-write-without-work-order']);
    // The by-user rule does not match (different users) and the incident is not repeated.
    expect(b.process(otWrite(T0 + 20 * 60_000))).toEqual([]);
  });

  it('the absence extension: no alert while a work order is open on the asset, an alert after it closed', () => {
    const engine = new DetectionEngine(set);
    engine.applyWorkOrder('WO-9', { assetId: 'capper1', status: 'in-progress', validFrom: iso(T0), validTo: iso(T0 + 3_600_000), changedAt: iso(T0) });
    expect(ids(engine.process(otWrite(T0 + 60_000)))).toEqual([]);
    expect(ids(engine.process(otWrite(T0 + 2 * 3_600_000)))).toEqual(['weir-ics-write-without-work-order']);
  });

  it('first-seen learns during its window and alerts on a new value after it', () => {
    const session = (t: number, client: string): DetectionEvent => ({ id: `s${t}${client}`, time: t, origin: 'ot.events.v1', fields: { 'event.category': 'ot_session', 'event.action': 'session_create', 'ot.client_address': client } as Record<string, FieldValue> });
    const engine = new DetectionEngine(set);
    const day = 86_400_000;
    expect(engine.process(session(T0, '10.0.0.1'))).toEqual([]);
    expect(engine.process(session(T0 + day, '10.0.0.2'))).toEqual([]);
    expect(engine.process(session(T0 + 8 * day, '10.0.0.2'))).toEqual([]);
    const alerts = engine.process(session(T0 + 8 * day + 1, '10.0.0.3'));
    expect(ids(alerts)).toEqual(['weir-ics-new-opcua-client']);
    expect(alerts[0]!.evidences![0]!['group.ot.client_address']).toBe('10.0.0.3');
  });

  it('rejects a state that is not an engine state', () => {
    expect(() => new DetectionEngine(set).restore({ version: 2 })).toThrow(/DETECTION\.STATE_INVALID/);
  });
});
