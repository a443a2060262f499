import { otEventsV1 } from '@weir/contracts';
import { uniqueTopicPrefix, waitFor } from '@weir/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { CorrelatorApplication } from '../src/correlator.application';
import { readAlerts, startCorrelator, testKafka, testSettings, write } from './fixtures';

const apps: CorrelatorApplication[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const a of apps) await a.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const rule = (id: string, node: string): string => `title: write to ${node}
id: ${id}
detection:
  sel:
    ot.node_id|endswith: ${node}
  condition: sel
level: low
tags:
  - attack.t0836
`;

describe('rule reload', () => {
  it('reloads rules without a restart; a broken file is rejected with file, line and reason while the others keep running', async () => {
    const brokers = inject('kafkaBrokers');
    const prefix = uniqueTopicPrefix('corr-reload');
    const stateDir = mkdtempSync(join(tmpdir(), 'correlator-state-'));
    const rulesDir = mkdtempSync(join(tmpdir(), 'correlator-rules-'));
    dirs.push(stateDir, rulesDir);
    writeFileSync(join(rulesDir, 'a.yml'), rule('rule-a', 'Mixer1.Speed'));
    const { kafka, producer } = await testKafka(brokers, prefix);
    try {
      const app = await startCorrelator(testSettings(brokers, prefix, stateDir, { builtinRules: false, watchRules: true, reloadDebounceMs: 100, rulesDirs: [rulesDir], consumeTelemetry: false }));
      apps.push(app);
      expect(app.lastLoad.ruleSet.rules.map((r) => r.id)).toEqual(['rule-a']);
      writeFileSync(join(rulesDir, 'broken.yml'), 'title: broken\nid: broken\ndetection:\n  sel:\n    a|nosuchmodifier: 1\n  condition: sel\n');
      writeFileSync(join(rulesDir, 'b.yml'), rule('rule-b', 'Mixer1.Temp'));
      const load = await waitFor(() => (app.lastLoad.ruleSet.rules.length === 2 && app.lastLoad.problems.length === 1 ? app.lastLoad : undefined), { timeoutMs: 20_000, what: 'the reload' });
      expect(load.problems).toEqual([{ file: 'broken.yml', line: 5, reason: 'unknown modifier "nosuchmodifier" on "a|nosuchmodifier"' }]);
      expect(app.engine.rules.rules.map((r) => r.id).sort()).toEqual(['rule-a', 'rule-b']);
      await producer.sendMany(otEventsV1, [write('2026-11-26T08:00:00Z', 'Mixer1.Speed', '10.20.0.15', 'operator1', 1, 2), write('2026-11-26T08:01:00Z', 'Mixer1.Temp', '10.20.0.15', 'operator1', 1, 2)]);
      const alerts = await waitFor(async () => {
        const a = await readAlerts(kafka, prefix);
        return a.length >= 2 ? a : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300, what: 'two alerts' });
      expect(alerts.map((a) => a.finding_info.analytic!.uid).sort()).toEqual(['rule-a', 'rule-b']);
    } finally {
      await producer.close();
    }
  });
});
