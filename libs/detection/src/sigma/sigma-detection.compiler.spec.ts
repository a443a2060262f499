import { describe, expect, it } from 'vitest';
import type { DetectionEvent, FieldValue } from '../detection-event';
import { compileDetection } from './sigma-detection.compiler';
import { wildcardToRegExpSource } from './sigma-value.matcher';

const ev = (value: FieldValue): DetectionEvent => ({ id: 'e', time: 0, origin: 'test', fields: { f: value } });

describe('compileDetection string comparisons', () => {
  // Values are compared character by character where a plain pattern must be; the result must be the
  // regular expression's (Sigma's definition), including for characters that case-fold oddly.
  const patterns = ['Valve1Open', 'ns=3;s=Line1.', '.Mode', 'k', 'Straße', 'ſ', 'ΣΑ'];
  const values: FieldValue[] = ['valve1open', 'VALVE1OPEN', 'Valve1Opem', 'xValve1Open', 'Valve1Openx', 'NS=3;S=LINE1.Filler', 'a.mode', 'A.MODE', '.Mod', 'K', '\u212A', 'k', 'STRASSE', 'straße', 'STRAẞE', 's', 'S', 'ſ', 'σα', 'ςα', '', 5, true, null, ['x', 'VALVE1OPEN'], ['\u212A']];
  for (const mod of ['', '|startswith', '|endswith', '|contains', '|cased', '|startswith|cased', '|endswith|cased']) {
    it(`f${mod || ' (plain)'} gives what the regular expression gives`, () => {
      for (const p of patterns) {
        const match = compileDetection({ sel: { [`f${mod}`]: p }, condition: 'sel' }, (n) => n);
        const w = wildcardToRegExpSource(p);
        const start = !mod.includes('contains') && !mod.includes('endswith');
        const end = !mod.includes('contains') && !mod.includes('startswith');
        const re = new RegExp(`${start ? '^' : ''}${w}${end ? '$' : ''}`, mod.includes('cased') ? 's' : 'is');
        for (const v of values) {
          const expected = (Array.isArray(v) ? v : [v]).some((x) => x !== null && re.test(String(x)));
          expect(match(ev(v)), `${p} ${JSON.stringify(v)}`).toBe(expected);
        }
      }
    });
  }
});
