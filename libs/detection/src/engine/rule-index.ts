import { fieldOf, type DetectionEvent } from '../detection-event';
import { requirementKey } from '../sigma/sigma-detection.compiler';
import type { DetectionRule, Rule } from '../sigma/sigma-rule';

/** The rules indexed by one field: those that require one of its values. */
interface FieldIndex {
  field: string;
  /** Lower-cased value -> rules that allow it, in rule order. */
  byKey: Map<string, DetectionRule[]>;
  /** Every rule indexed by this field, in rule order (for list values). */
  all: DetectionRule[];
}

/**
 * The detection rules an event can match, found without testing every rule. Each rule that
 * requires a field to hold one of some plain values (`requires`, worked out when the rule is
 * compiled) is filed under one such field, the one most rules require; an event is then tested
 * only against the rules filed under its own values of those fields, and the rules that require
 * nothing. The candidates keep the rules' order, so results are those of testing every rule.
 */
export class RuleIndex {
  private readonly unindexed: DetectionRule[] = [];
  private readonly fields: FieldIndex[] = [];
  private readonly order = new Map<DetectionRule, number>();
  /** Merged candidate lists by the lists they merge (few distinct combinations recur). */
  private readonly merged = new Map<string, readonly DetectionRule[]>();
  private readonly listIds = new Map<readonly DetectionRule[], number>();

  constructor(rules: readonly Rule[]) {
    const detections = rules.filter((r): r is DetectionRule => r.kind === 'detection');
    detections.forEach((r, i) => this.order.set(r, i));
    // How many rules require each field: filing rules under widely required fields keeps the fields
    // looked up per event few.
    const uses = new Map<string, number>();
    for (const r of detections) for (const f of Object.keys(r.requires ?? {})) uses.set(f, (uses.get(f) ?? 0) + 1);
    const byField = new Map<string, FieldIndex>();
    for (const r of detections) {
      const req = r.requires ?? {};
      const candidates = Object.keys(req).sort((a, b) => uses.get(b)! - uses.get(a)! || req[a]!.length - req[b]!.length || (a < b ? -1 : a > b ? 1 : 0));
      const field = candidates[0];
      if (field === undefined) {
        this.unindexed.push(r);
        continue;
      }
      let ix = byField.get(field);
      if (!ix) byField.set(field, (ix = { field, byKey: new Map(), all: [] }));
      ix.all.push(r);
      for (const key of req[field]!) {
        const list = ix.byKey.get(key);
        if (list) list.push(r);
        else ix.byKey.set(key, [r]);
      }
    }
    this.fields = [...byField.values()];
    for (const ix of this.fields) {
      this.listIds.set(ix.all, this.listIds.size);
      for (const list of ix.byKey.values()) this.listIds.set(list, this.listIds.size);
    }
  }

  /** Fields rules are filed under, and how many rules test every event regardless (for docs and metrics). */
  describe(): { fields: Record<string, number>; unindexed: number } {
    return { fields: Object.fromEntries(this.fields.map((f) => [f.field, f.all.length])), unindexed: this.unindexed.length };
  }

  /** The detection rules `event` may match, in rule order; every rule it does match is among them. Do not modify. */
  candidates(event: DetectionEvent): readonly DetectionRule[] {
    let first: readonly DetectionRule[] | undefined = this.unindexed.length > 0 ? this.unindexed : undefined;
    let more: (readonly DetectionRule[])[] | undefined;
    for (const ix of this.fields) {
      const v = fieldOf(event, ix.field);
      // A plain value never matches an absent or null field.
      if (v === undefined || v === null) continue;
      // A list matches when one element does: its rules are all candidates.
      const list = Array.isArray(v) ? ix.all : ix.byKey.get(requirementKey(v as string | number | boolean));
      if (!list) continue;
      if (!first) first = list;
      else (more ??= []).push(list);
    }
    if (!first) return [];
    if (!more) return first;
    const key = more.reduce((k, list) => `${k},${this.listIds.get(list)!}`, String(this.listIds.get(first) ?? -1));
    let merged = this.merged.get(key);
    if (!merged) {
      merged = first.concat(...more).sort((a, b) => this.order.get(a)! - this.order.get(b)!);
      if (this.merged.size >= 4096) this.merged.clear();
      this.merged.set(key, merged);
    }
    return merged;
  }
}
