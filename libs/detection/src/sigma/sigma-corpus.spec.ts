import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DetectionEvent, FieldValue } from '../detection-event';
import { buildRuleSet } from '../engine/rule-set';
import { DetectionEngine } from '../engine/detection.engine';
import { parseRuleFile } from './sigma-rule.parser';
import type { DetectionRule } from './sigma-rule';

const corpus = (name: string): string => readFileSync(resolve(__dirname, '../../test/corpus', name), 'utf8');
const detections = parseRuleFile(corpus('detections.yml'), 'detections.yml');
const rule = (id: string): DetectionRule => {
  const r = detections.rules.find((x) => x.id === id);
  if (!r || r.kind !== 'detection') throw new Error(`no rule ${id}`);
  return r;
};
let seq = 0;
const ev = (fields: Record<string, FieldValue>, time = 0): DetectionEvent => ({ id: `e${++seq}`, time, origin: 'test', fields });
const matches = (id: string, fields: Record<string, FieldValue>): boolean => rule(id).match(ev(fields));

describe('Sigma detection corpus', () => {
  it('parses every rule of the corpus without problems', () => {
    expect(detections.problems).toEqual([]);
    expect(detections.rules).toHaveLength(21);
  });

  it('plain strings are case-insensitive and match the whole value', () => {
    expect(matches('plain', { 'user.name': 'operator1' })).toBe(true);
    expect(matches('plain', { 'user.name': 'OPERATOR1' })).toBe(true);
    expect(matches('plain', { 'user.name': 'operator10' })).toBe(false);
    expect(matches('plain', {})).toBe(false);
  });

  it('wildcards: * any run, ? one character, \\* a literal star', () => {
    expect(matches('wildcards', { 'ot.node_id': 'ns=3;s=Line1.Filler.Speed' })).toBe(true);
    expect(matches('wildcards', { 'ot.node_id': 'ns=3;s=Line12.Filler.Speed' })).toBe(false);
    expect(matches('wildcards', { message: 'cost *100' })).toBe(true);
    expect(matches('wildcards', { message: 'cost 5100' })).toBe(false);
  });

  it('a list is OR, a map is AND, a list of maps is OR', () => {
    expect(matches('list-or-map-and', { 'event.category': 'authentication', 'user.name': 'bob' })).toBe(true);
    expect(matches('list-or-map-and', { 'event.category': 'network', 'user.name': 'bob' })).toBe(false);
    expect(matches('list-or-map-and', { 'event.category': 'authentication', 'user.name': 'carol' })).toBe(false);
    expect(matches('list-of-maps', { 'src.ip': '10.0.0.1' })).toBe(true);
    expect(matches('list-of-maps', { 'user.name': 'alice' })).toBe(true);
    expect(matches('list-of-maps', { 'user.name': 'bob', 'src.ip': '10.0.0.2' })).toBe(false);
  });

  it('contains, startswith, endswith and contains|all', () => {
    expect(matches('substrings', { message: 'x; DROP TABLE users' })).toBe(true);
    expect(matches('substrings', { 'ot.node_id': 'ns=3;s=Line1.Mixer' })).toBe(true);
    expect(matches('substrings', { 'ot.node_id': 'ns=3;s=Line2.Mixer' })).toBe(false);
    expect(matches('substrings', { 'ot.browse_path': 'Plant/Line1/Filler/Mode' })).toBe(true);
    expect(matches('substrings', { 'ot.browse_path': 'Plant/Line1/Filler/Mode/Value' })).toBe(false);
    expect(matches('contains-all', { message: 'powershell.exe -enc AAAA' })).toBe(true);
    expect(matches('contains-all', { message: 'powershell.exe -nop' })).toBe(false);
  });

  it('re with the i sub-modifier', () => {
    expect(matches('regex', { 'user.name': 'ADMIN_42' })).toBe(true);
    expect(matches('regex', { 'user.name': 'adm_7' })).toBe(true);
    expect(matches('regex', { 'user.name': 'administrator' })).toBe(false);
  });

  it('cidr for IPv4 and IPv6', () => {
    expect(matches('cidr', { 'src.ip': '10.99.3.4' })).toBe(true);
    expect(matches('cidr', { 'src.ip': '10.98.3.4' })).toBe(false);
    expect(matches('cidr', { 'src.ip': 'fd00:abcd:1::5' })).toBe(true);
    expect(matches('cidr', { 'src.ip': 'fd00:abce::5' })).toBe(false);
    expect(matches('cidr', { 'src.ip': 'not-an-ip' })).toBe(false);
  });

  it('exists true and false', () => {
    expect(matches('exists', { 'user.name': 'a' })).toBe(true);
    expect(matches('exists', { 'user.name': 'a', 'auth.is_mfa': false })).toBe(false);
    expect(matches('exists', { 'auth.is_mfa': false })).toBe(false);
  });

  it('lt, lte, gt, gte compare numbers (numeric strings too)', () => {
    expect(matches('numeric', { 'metric.value': 80.5 })).toBe(true);
    expect(matches('numeric', { 'metric.value': 80 })).toBe(false);
    expect(matches('numeric', { 'metric.value': '-10' })).toBe(true);
    expect(matches('numeric', { 'metric.value': -9.9 })).toBe(false);
    expect(matches('range', { 'event.severity': 500 })).toBe(true);
    expect(matches('range', { 'event.severity': 800 })).toBe(false);
    expect(matches('range', { 'event.severity': 499 })).toBe(false);
  });

  it('neq (extension) and null', () => {
    expect(matches('neq', { 'event.category': 'ot_write', 'user.name': 'operator1' })).toBe(true);
    expect(matches('neq', { 'event.category': 'ot_write', 'user.name': 'SVC_MES' })).toBe(false);
    expect(matches('null-value', { 'event.category': 'ot_write' })).toBe(true);
    expect(matches('null-value', { 'event.category': 'ot_write', 'work_order.id': null })).toBe(true);
    expect(matches('null-value', { 'event.category': 'ot_write', 'work_order.id': 'WO-1' })).toBe(false);
  });

  it('1 of / all of with wildcards and them, not, parentheses, precedence', () => {
    expect(matches('one-of-pattern', { 'event.category': 'ot_method_call', 'user.name': 'eve' })).toBe(true);
    expect(matches('one-of-pattern', { 'event.category': 'ot_write', 'user.name': 'svc_mes' })).toBe(false);
    expect(matches('all-of-pattern', { 'event.source': 'ot', 'event.severity': 700 })).toBe(true);
    expect(matches('all-of-pattern', { 'event.source': 'ot', 'event.severity': 600 })).toBe(false);
    expect(matches('all-of-them', { 'event.source': 'it', 'user.name': 'alice' })).toBe(true);
    expect(matches('one-of-them', { 'user.name': 'bob' })).toBe(true);
    expect(matches('one-of-them', { 'user.name': 'carol' })).toBe(false);
    // a or (b and not c)
    expect(matches('precedence', { 'user.name': 'a', 'src.ip': '1.1.1.1' })).toBe(true);
    expect(matches('precedence', { 'user.name': 'b', 'src.ip': '1.1.1.1' })).toBe(false);
    expect(matches('precedence', { 'user.name': 'b', 'src.ip': '2.2.2.2' })).toBe(true);
  });

  it('keywords, Sigma field names, typed values', () => {
    expect(matches('keywords', { message: 'ran Mimikatz.exe' })).toBe(true);
    expect(matches('keywords', { message: 'sekurlsa::logonpasswords' })).toBe(true);
    expect(matches('keywords', { message: 'sekurl' })).toBe(false);
    expect(matches('keywords', { other: 'SEKURLSA' })).toBe(true);
    expect(matches('mapped-fields', { 'user.name': 'Alice', 'src.ip': '192.168.1.1' })).toBe(true);
    expect(matches('typed', { 'event.code': 3002, 'auth.is_remote': true })).toBe(true);
    expect(matches('typed', { 'event.code': '3002', 'auth.is_remote': true })).toBe(true);
    expect(matches('typed', { 'event.code': 3002, 'auth.is_remote': false })).toBe(false);
  });
});

describe('malformed rules', () => {
  it('rejects each broken rule with its file, line and reason and keeps the good one', () => {
    const r = parseRuleFile(corpus('malformed.yml'), 'malformed.yml');
    expect(r.rules.map((x) => x.id)).toEqual(['fine-in-broken-file']);
    expect(r.problems).toEqual([
      { file: 'malformed.yml', line: 12, reason: 'unknown modifier "startswiths" on "user.name|startswiths"' },
      { file: 'malformed.yml', line: 20, reason: expect.stringContaining('"selection2", which is not a search identifier') as string },
      { file: 'malformed.yml', line: 30, reason: expect.stringContaining('timespan "5 minutes"') as string },
    ]);
  });

  it('reports YAML syntax errors with the line', () => {
    const r = parseRuleFile('title: x\ndetection:\n  sel:\n    a: [1, 2\n  condition: sel\n', 'syntax.yml');
    expect(r.rules).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.file).toBe('syntax.yml');
    expect(r.problems[0]!.line).toBeGreaterThanOrEqual(4);
    expect(r.problems[0]!.reason).toMatch(/^YAML: /);
  });

  it('rejects a correlation with an unknown reference when the rule set is built', () => {
    const r = parseRuleFile('title: c\nid: c1\ncorrelation:\n  type: event_count\n  rules: [nope]\n  group-by: [a]\n  timespan: 1m\n  condition:\n    gte: 1\n', 'c.yml');
    const set = buildRuleSet(r.rules);
    expect(set.rules).toEqual([]);
    expect(set.problems).toEqual([{ file: 'c.yml', line: 1, reason: 'DETECTION.RULE_UNKNOWN_REFERENCE: correlation "c1" references unknown rule(s) nope' }]);
  });
});

describe('Sigma correlation corpus', () => {
  const parsed = parseRuleFile(corpus('correlations.yml'), 'correlations.yml');
  const set = buildRuleSet(parsed.rules);
  const T0 = Date.parse('2026-11-30T08:00:00Z');
  const min = 60_000;
  const run = (events: DetectionEvent[]) => {
    const engine = new DetectionEngine(set, { allowedLatenessMs: 0, minUpdateIntervalMs: 0 });
    const alerts = events.flatMap((e) => engine.process(e));
    alerts.push(...engine.advance(events.at(-1)!.time + 3 * 3_600_000));
    return alerts;
  };
  const failed = (user: string, t: number, ip = '10.0.0.9') => ev({ 'event.category': 'authentication', 'event.outcome': 'failure', 'user.name': user, 'src.ip': ip }, t);
  const success = (user: string, t: number, vpn = '10.99.0.7') => ev({ 'event.category': 'authentication', 'event.outcome': 'success', 'user.name': user, 'vpn.assigned_ip': vpn }, t);
  const write = (client: string, t: number) => ev({ 'event.category': 'ot_write', 'ot.client_address': client, 'asset.id': 'filler1' }, t);

  it('parses the correlation corpus', () => {
    expect(parsed.problems).toEqual([]);
    expect(set.problems).toEqual([]);
    // Detections referenced only by non-generating correlations do not alert on their own; corr-temporal has generate: true.
    expect([...set.alerting].sort()).toEqual(['11111111-0000-4000-8000-000000000002', '11111111-0000-4000-8000-000000000003', 'corr-event-count-lt', 'corr-temporal', 'corr-temporal-ordered', 'corr-value-count']);
  });

  it('event_count fires at the 5th failure of one user within 10 minutes, not for 4 or spread out', () => {
    const ids = (alerts: ReturnType<typeof run>) => alerts.filter((a) => a.finding_info.analytic?.uid === 'corr-temporal-ordered' || a.finding_info.analytic?.uid === 'corr-event-count-lt');
    // Five failures for alice in 4 minutes then a success: event_count (silent) feeds temporal_ordered.
    const a = run([0, 1, 2, 3, 4].map((i) => failed('alice', T0 + i * min)).concat([success('alice', T0 + 5 * min)]));
    expect(ids(a).map((x) => x.finding_info.analytic?.uid)).toEqual(['corr-temporal-ordered']);
    expect(a.find((x) => x.finding_info.analytic?.uid === 'corr-temporal-ordered')!.finding_info.related_events).toHaveLength(6);
    // Five failures spread over 20 minutes: never 5 in 10 minutes, so no temporal_ordered; each 10-minute window has 1-3 (lt 3, gte 1) fires.
    const b = run([0, 5, 10, 15, 20].map((i) => failed('bob', T0 + i * min)).concat([success('bob', T0 + 21 * min)]));
    expect(ids(b).filter((x) => x.finding_info.analytic?.uid === 'corr-temporal-ordered')).toEqual([]);
  });

  it('temporal_ordered needs the order: success before the failures does not fire', () => {
    const a = run([success('carol', T0)].concat([1, 2, 3, 4, 5].map((i) => failed('carol', T0 + i * min))));
    expect(a.filter((x) => x.finding_info.analytic?.uid === 'corr-temporal-ordered')).toEqual([]);
  });

  it('value_count counts distinct users per source address', () => {
    const twoUsers = run([failed('u1', T0, '10.1.1.1'), failed('u2', T0 + min, '10.1.1.1'), failed('u1', T0 + 2 * min, '10.1.1.1')]);
    expect(twoUsers.filter((x) => x.finding_info.analytic?.uid === 'corr-value-count')).toEqual([]);
    const three = run([failed('u1', T0, '10.1.1.1'), failed('u2', T0 + min, '10.1.1.1'), failed('u3', T0 + 2 * min, '10.1.1.1')]);
    const hit = three.filter((x) => x.finding_info.analytic?.uid === 'corr-value-count');
    expect(hit).toHaveLength(1);
    expect(hit[0]!.severity_id).toBe(4);
    expect(hit[0]!.evidences![0]!['group.src.ip']).toBe('10.1.1.1');
  });

  it('temporal with aliases joins the VPN address and the OPC UA client address, in any order, within 15 minutes', () => {
    const t = (alerts: ReturnType<typeof run>) => alerts.filter((x) => x.finding_info.analytic?.uid === 'corr-temporal');
    expect(t(run([write('10.99.0.7', T0), success('dave', T0 + 10 * min, '10.99.0.7')]))).toHaveLength(1);
    expect(t(run([success('dave', T0, '10.99.0.7'), write('10.99.0.7', T0 + 14 * min)]))).toHaveLength(1);
    expect(t(run([success('dave', T0, '10.99.0.7'), write('10.99.0.8', T0 + 1 * min)]))).toHaveLength(0);
    expect(t(run([success('dave', T0, '10.99.0.7'), write('10.99.0.7', T0 + 16 * min)]))).toHaveLength(0);
  });

  it('generate: true lets the referenced rules alert too', () => {
    const a = run([success('erin', T0, '10.99.0.1')]);
    expect(a.map((x) => x.finding_info.analytic?.uid)).toEqual(['11111111-0000-4000-8000-000000000002']);
  });

  it('a deferred condition (lt) is evaluated when the watermark closes the window', () => {
    const a = run([failed('frank', T0), failed('frank', T0 + min)]);
    const lt = a.filter((x) => x.finding_info.analytic?.uid === 'corr-event-count-lt');
    expect(lt).toHaveLength(1);
    expect(lt[0]!.finding_info.related_events).toHaveLength(2);
    const none = run([0, 1, 2].map((i) => failed('gina', T0 + i * min)));
    expect(none.filter((x) => x.finding_info.analytic?.uid === 'corr-event-count-lt')).toEqual([]);
  });
});
