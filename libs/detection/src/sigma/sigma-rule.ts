import type { EventPredicate, FieldRequirements } from './sigma-detection.compiler';

/** Sigma `level`. */
export type SigmaLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';

/** Weir's extensions to a detection rule (the `weir:` section); see the README. */
export interface WeirExtensions {
  /** Match only when no maintenance work order is open on the event's asset at its time. */
  absence?: { assetField: string };
  /** Match only the first time a combination of field values is seen after a learning window. */
  firstSeen?: { fields: string[]; learningMs: number };
  /** Match only when a value lies outside per-asset limits carried by the event. */
  limit?: { valueField: string; lowField: string; highField: string };
  /** Rules with the same incident key and asset make one incident. Default: the rule id. */
  incident?: string;
  /** How long after its last event an incident still takes updates, ms. */
  incidentWindowMs?: number;
}

/** Fields every parsed rule has. */
export interface RuleCommon {
  /** The rule's `id` (or, without one, its `name`, or `file#index`). */
  id: string;
  name?: string;
  title: string;
  description?: string;
  level: SigmaLevel;
  tags: string[];
  /** ATT&CK technique ids from `attack.t0836` style tags, upper-cased. */
  techniques: string[];
  file: string;
  line: number;
  /** Whether a rule referenced by a correlation still alerts on its own (`generate` of the referring correlation). */
  weir: WeirExtensions;
}

/** A Sigma detection rule, compiled. */
export interface DetectionRule extends RuleCommon {
  kind: 'detection';
  logsource: Record<string, string>;
  match: EventPredicate;
  /** Field values the detection cannot match without (see FieldRequirements); the engine indexes rules by them. Absent: none known. */
  requires?: FieldRequirements;
}

/** Comparison of a correlation's count. */
export interface CountCondition {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
  neq?: number;
}

/** A Sigma correlation rule. */
export interface CorrelationRule extends RuleCommon {
  kind: 'correlation';
  type: 'event_count' | 'value_count' | 'temporal' | 'temporal_ordered';
  /** Referenced rules by id or name, as written. */
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  condition: CountCondition;
  /** The field whose distinct values `value_count` counts. */
  valueField?: string;
  /** alias -> rule name or id -> field in that rule's events. */
  aliases: Record<string, Record<string, string>>;
  generate: boolean;
}

/** Any parsed rule. */
export type Rule = DetectionRule | CorrelationRule;

/** A rule file that did not parse: where and why. */
export interface RuleProblem {
  file: string;
  line?: number;
  reason: string;
}
