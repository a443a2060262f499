import { z } from 'zod';
import { AssetMappingError, compileAssetMapping, type AssetMappingRule } from './asset-mapping';

/** An explicit rule in settings (`ExplicitAssetRule`). */
const explicitRuleSchema = z.object({
  kind: z.literal('explicit'),
  /** Shown in results and logs; defaults to `explicit[<index>]`. */
  name: z.string().optional(),
  /** The source the node belongs to; absent: any source. */
  sourceId: z.string().optional(),
  /** The node id, exactly as the connector writes it. */
  nodeId: z.string().min(1),
  /** The asset the node belongs to. */
  assetId: z.string().min(1),
  /** The asset's path, when the ERP does not know the asset. */
  assetPath: z.string().optional(),
});

/** A pattern rule in settings (`PatternAssetRule`). */
const patternRuleSchema = z.object({
  kind: z.literal('pattern'),
  /** Shown in results and logs; defaults to `pattern[<index>]`. */
  name: z.string().optional(),
  /** Only series of this source; absent: any source. */
  sourceId: z.string().optional(),
  /** What the pattern is matched against: `nodeId` or `browsePath`. */
  target: z.enum(['nodeId', 'browsePath']),
  /** A glob over the whole target (`*` one segment, `**` across, `?` one character); each is a numbered capture. */
  glob: z.string().optional(),
  /** A regular expression (not anchored unless you anchor it); numbered and named captures. Give exactly one of `glob` and `regex`. */
  regex: z.string().optional(),
  /** Regex flags, e.g. `i`. Only with `regex`. */
  flags: z.string().optional(),
  /** Template of the asset id: `$1`, `${name}`, `${1:lower}`, `$$` for a literal `$`. */
  assetId: z.string().min(1),
  /** Template of the asset path, same syntax. */
  assetPath: z.string().optional(),
});

/** One source/node-to-asset rule, as `compileAssetMapping` takes it. */
export const assetMappingRuleSchema = z.discriminatedUnion('kind', [explicitRuleSchema, patternRuleSchema]);

/**
 * The asset mapping of a service's settings: rules, first match wins, compiled
 * while the settings load, so a rule that does not compile (a bad regex, both
 * or neither of glob and regex) is a settings error naming the rule.
 */
export const assetMappingRulesSchema = z.array(assetMappingRuleSchema).superRefine((rules, ctx) => {
  try {
    compileAssetMapping(rules as AssetMappingRule[]);
  } catch (err) {
    if (!(err instanceof AssetMappingError)) throw err;
    for (const problem of err.problems) ctx.addIssue({ code: 'custom', message: problem });
  }
});
