import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DetectionEvent, FieldValue } from '../detection-event';
import { BUILTIN_RULES_DIR, loadRuleDirectories } from '../rules/rule-loader';
import type { DetectionRule, Rule } from '../sigma/sigma-rule';
import { parseRuleFile } from '../sigma/sigma-rule.parser';
import { RuleIndex } from './rule-index';

const corpus = (name: string): Rule[] => {
  const r = parseRuleFile(readFileSync(resolve(__dirname, '../../test/corpus', name), 'utf8'), name);
  expect(r.problems).toEqual([]);
  return r.rules;
};

/** Rules that stress the requirement analysis: repeated fields, numbers, booleans, cased, non-ASCII, lists of maps, negations, `all`. */
const TRICKY = `title: same field twice
id: t-twice
detection:
  a:
    event.category: [ot_write, ot_method_call]
  b:
    event.category: [OT_WRITE, ot_session]
  condition: a and b
---
title: numbers and booleans
id: t-scalars
detection:
  sel:
    event.severity: 700
    alarm.active: true
  condition: sel
---
title: cased
id: t-cased
detection:
  sel:
    event.type|cased: AuditWriteUpdateEventType
  condition: sel
---
title: non-ascii value is not indexed
id: t-unicode
detection:
  sel:
    user.name: 'Kelvin\u212A'
  condition: sel
---
title: list of maps on different fields
id: t-maps
detection:
  sel:
    - event.category: ot_write
      user.name: operator1
    - event.category: ot_session
    - ot.method: Reset
  condition: sel
---
title: list of maps on one field
id: t-maps-one
detection:
  sel:
    - event.action: write
      user.name: operator1
    - event.action: setpoint_change
  condition: sel
---
title: negation and all
id: t-not
detection:
  sel:
    event.category: ot_write
  f:
    event.action: write
  g:
    message|contains|all: [a, b]
  condition: not sel or (f and not g)
---
title: one of and all of
id: t-of
detection:
  sel_a:
    event.source: ot
  sel_b:
    event.source: it
  other_c:
    event.kind: audit
  condition: (1 of sel_* and all of other_*) or other_c and sel_a
---
title: keyword
id: t-keyword
detection:
  kw:
    - 'Line1'
  sel:
    event.source: ot
  condition: kw and sel
---
title: exists, null and neq
id: t-exists
detection:
  sel:
    ot.client_address|exists: true
    ot.node_id: null
    user.name|neq: operator1
  condition: sel
---
title: list condition
id: t-condlist
detection:
  a:
    event.source: ot
  b:
    event.source: it
  condition:
    - a
    - b
`;

/** Bench-like generated rules: modifiers that pin nothing down next to plain values that do. */
function generated(): string {
  const docs: string[] = [];
  for (let k = 0; k < 24; k++) {
    const sel = [`ot.node_id|endswith: .Valve${k}Open`, `message|contains: forbidden-${k}`, `user.name|re: '^attacker${k}[0-9]+$'`, `ot.client_address|cidr: 10.${k}.0.0/16`, `event.severity|gte: ${500 + k}`, `ot.method: [Reset${k}, Purge${k}]`, `event.type: Audit${k}CustomEventType`, `event.action: [write, mode_change]`][k % 8]!;
    docs.push(`title: g${k}\nid: g-${k}\ndetection:\n  sel_a:\n    ${sel}\n  sel_b:\n    event.source: ot\n  filter:\n    user.name: svc_${k}\n  condition: 1 of sel_* and sel_a and not filter\n`);
  }
  return docs.join('---\n');
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RuleIndex', () => {
  const rules: Rule[] = [
    ...loadRuleDirectories([BUILTIN_RULES_DIR]).rules,
    ...corpus('detections.yml'),
    ...corpus('correlations.yml'),
    ...parseRuleFile(TRICKY, 'tricky.yml').rules,
    ...parseRuleFile(generated(), 'generated.yml').rules,
  ];
  const detections = rules.filter((r): r is DetectionRule => r.kind === 'detection');

  it('derives requirements only from plain values the condition cannot do without', () => {
    const req = (id: string) => detections.find((r) => r.id === id)!.requires;
    expect(req('t-twice')).toEqual({ 'event.category': ['ot_write'] });
    expect(req('t-scalars')).toEqual({ 'event.severity': ['700'], 'alarm.active': ['true'] });
    expect(req('t-cased')).toEqual({ 'event.type': ['auditwriteupdateeventtype'] });
    expect(req('t-unicode')).toEqual({});
    expect(req('t-maps')).toEqual({});
    expect(req('t-maps-one')).toEqual({ 'event.action': ['setpoint_change', 'write'] });
    expect(req('t-not')).toEqual({});
    expect(req('t-of')).toEqual({ 'event.source': ['it', 'ot'], 'event.kind': ['audit'] });
    expect(req('t-keyword')).toEqual({ 'event.source': ['ot'] });
    expect(req('t-exists')).toEqual({});
    expect(req('t-condlist')).toEqual({ 'event.source': ['it', 'ot'] });
    expect(req('weir-ics-write-without-work-order')).toEqual({ 'event.category': ['ot_write'], 'event.action': ['setpoint_change', 'write'] });
  });

  it('gives, for varied random events, exactly the matches of testing every rule, in rule order', () => {
    const index = new RuleIndex(rules);
    const next = random(20261130);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const fields = new Set(['event.source', 'event.kind', 'event.type', 'event.category', 'event.action', 'event.outcome', 'event.severity', 'message', 'user.name', 'src.ip', 'ot.node_id', 'ot.method', 'ot.client_address', 'alarm.active', 'auth.is_remote', 'auth.is_mfa', 'asset.id']);
    const values = new Set<string>(['ot', 'it', 'audit', 'operator1', 'Operator1', 'svc_3', 'attacker31', '10.0.0.1', '10.3.2.1', '10.99.0.7', 'ns=3;s=Line1.Valve0Open', 'ns=3;s=Line1.Filler.Speed', 'x; DROP TABLE users', 'forbidden-1', 'powershell.exe -enc AAAA', 'Kelvin\u212A', 'kelvink', 'ſtop', 'AuditWriteUpdateEventType', 'auditwriteupdateeventtype', '']);
    for (const r of detections) {
      for (const [field, keys] of Object.entries(r.requires ?? {})) {
        fields.add(field);
        for (const k of keys) values.add(k);
      }
    }
    const fieldList = [...fields];
    const valueList = [...values];
    // Requirement keys are lower case; events carry any case, and the odd Kelvin sign (lower-cases to k).
    const vary = (s: string): string => [...s].map((c) => (next() < 0.3 ? c.toUpperCase() : next() < 0.05 && c === 'k' ? '\u212A' : c)).join('');
    const scalar = (): FieldValue => {
      const r = next();
      if (r < 0.7) return vary(pick(valueList));
      if (r < 0.8) return pick([500, 700, 510, 0, -1, 1.5]);
      if (r < 0.9) return next() < 0.5;
      return null;
    };
    const position = new Map(detections.map((r, i) => [r, i]));
    const EVENTS = 10_000;
    const wrong: { fields: Record<string, FieldValue>; expected: string[]; got: string[] }[] = [];
    let candidates = 0;
    let matched = 0;
    for (let n = 0; n < EVENTS; n++) {
      const f: Record<string, FieldValue> = {};
      const count = 1 + Math.floor(next() * 8);
      for (let i = 0; i < count; i++) f[pick(fieldList)] = next() < 0.08 ? [scalar(), scalar()] : scalar();
      const event: DetectionEvent = { id: `e${n}`, time: n, origin: 'test', fields: f };
      const expected = detections.filter((r) => r.match(event)).map((r) => r.id);
      const cand = index.candidates(event);
      candidates += cand.length;
      matched += expected.length;
      const got = cand.filter((r) => r.match(event)).map((r) => r.id);
      // Candidates come in rule order, each once.
      const ordered = cand.every((r, i) => i === 0 || position.get(cand[i - 1]!)! < position.get(r)!);
      if (!ordered || got.join('\n') !== expected.join('\n')) wrong.push({ fields: f, expected, got: ordered ? got : ['<out of order>', ...got] });
    }
    expect(wrong.slice(0, 3)).toEqual([]);
    // The events do match rules, and the index does leave rules out.
    expect(matched).toBeGreaterThan(500);
    expect(candidates).toBeLessThan(0.8 * EVENTS * detections.length);
  });

  it('gives no indexed rule for an event without the fields they require', () => {
    const index = new RuleIndex(rules);
    const unindexed = index.describe().unindexed;
    expect(index.candidates({ id: 'x', time: 0, origin: 'test', fields: {} })).toHaveLength(unindexed);
    expect(unindexed).toBeLessThan(detections.length);
  });
});
