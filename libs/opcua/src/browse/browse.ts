import { BrowseDirection, NodeClassMask, ReferenceTypeIds, resolveNodeId, type BrowseDescriptionOptions, type BrowseResult, type ClientSession, type NodeId, type ReferenceDescription } from 'node-opcua';
import type { BrowseRule } from '../nodeset/node-set';
import { chunk } from '../subscribe/monitored-items';

/** A variable found by browsing. */
export interface DiscoveredVariable {
  /** NodeId string in the form samples carry (`nsu=` when the rule's root was given that way, else `ns=`). */
  nodeId: string;
  /** Browse names from below the root's parent, joined with `/` (`Plant/Site01/Area01/.../Temperature`). */
  browsePath: string;
}

/** A NodeId string without the `ns=0;` that node-opcua's `toString()` puts on namespace-0 ids (`ns=0;i=2041` → `i=2041`). */
export function shortNodeId(id: string): string {
  return id.startsWith('ns=0;') ? id.slice(5) : id;
}

/** Answers "is type A a subtype of B" by browsing HasSubtype upwards, remembering every answer. Ids are compared in `shortNodeId` form. */
export class TypeHierarchy {
  private readonly parents = new Map<string, string | null>();

  constructor(private readonly session: Pick<ClientSession, 'browse'>) {}

  /** The supertype chain of `typeId`, itself first. */
  async ancestors(typeId: string): Promise<string[]> {
    const chain: string[] = [];
    let current: string | null = shortNodeId(typeId);
    while (current && chain.length < 64) {
      chain.push(current);
      current = await this.parent(current);
    }
    return chain;
  }

  /** True when `typeId` is `ancestorId` or derives from it. */
  async isA(typeId: string, ancestorId: string): Promise<boolean> {
    return (await this.ancestors(typeId)).includes(shortNodeId(ancestorId));
  }

  private async parent(typeId: string): Promise<string | null> {
    const known = this.parents.get(typeId);
    if (known !== undefined) return known;
    const result = await this.session.browse({ nodeId: typeId, browseDirection: BrowseDirection.Inverse, referenceTypeId: ReferenceTypeIds.HasSubtype, includeSubtypes: false, nodeClassMask: 0, resultMask: 63 });
    const ref = result.references?.[0];
    const parent = ref ? shortNodeId(ref.nodeId.toString()) : null;
    this.parents.set(typeId, parent);
    return parent;
  }
}

/** ConditionType (i=2782): objects of this type are alarms, read through events, not browsed into. */
export const CONDITION_TYPE = 'i=2782';

async function browseMany(session: Pick<ClientSession, 'browse' | 'browseNext'>, descriptions: BrowseDescriptionOptions[]): Promise<ReferenceDescription[][]> {
  const results = (await session.browse(descriptions)) as BrowseResult[];
  const out: ReferenceDescription[][] = [];
  for (const r of results) {
    const refs = [...(r.references ?? [])];
    let cp = r.continuationPoint;
    // Servers cap references per node (MaxReferencesPerNode); follow continuation points for the rest.
    while (cp && cp.length > 0) {
      const next = (await session.browseNext([cp], false)) as BrowseResult[];
      const n = next[0];
      if (!n) break;
      refs.push(...(n.references ?? []));
      cp = n.continuationPoint;
    }
    out.push(refs);
  }
  return out;
}

/**
 * Finds the variables below a root: follows hierarchical references forward,
 * level by level (one Browse call per `maxNodesPerBrowse` nodes of a level),
 * de-duplicates nodes reachable more than once (Organizes and HasNotifier to
 * the same object), does not descend into variables (their children are
 * properties and sub-items) or into alarm objects (conditions come as
 * events), skips HasProperty children unless asked, and applies the rule's
 * include/exclude patterns to browse paths.
 */
export async function discoverVariables(
  session: Pick<ClientSession, 'browse' | 'browseNext'>,
  rule: BrowseRule,
  root: NodeId,
  options: { maxNodesPerBrowse: number; namespaces: readonly string[]; types?: TypeHierarchy },
): Promise<DiscoveredVariable[]> {
  const include = rule.include ? new RegExp(rule.include) : undefined;
  const exclude = rule.exclude ? new RegExp(rule.exclude) : undefined;
  const useNsu = rule.rootNodeId.startsWith('nsu=');
  const types = options.types ?? new TypeHierarchy(session);
  const name = (nodeId: NodeId): string => {
    const s = nodeId.toString();
    if (!useNsu || nodeId.namespace === 0) return s;
    const uri = options.namespaces[nodeId.namespace];
    return uri ? s.replace(/^ns=\d+;/, `nsu=${uri};`) : s;
  };
  const seen = new Set<string>([root.toString()]);
  const found: DiscoveredVariable[] = [];
  let frontier: Array<{ nodeId: NodeId; path: string }> = [{ nodeId: root, path: '' }];
  const hasProperty = resolveNodeId(ReferenceTypeIds.HasProperty).toString();
  for (let depth = 1; depth <= rule.maxDepth && frontier.length > 0; depth++) {
    const next: Array<{ nodeId: NodeId; path: string }> = [];
    for (const part of chunk(frontier, options.maxNodesPerBrowse)) {
      const results = await browseMany(
        session,
        part.map((p) => ({ nodeId: p.nodeId, browseDirection: BrowseDirection.Forward, referenceTypeId: ReferenceTypeIds.HierarchicalReferences, includeSubtypes: true, nodeClassMask: NodeClassMask.Object | NodeClassMask.Variable, resultMask: 63 })),
      );
      for (let i = 0; i < part.length; i++) {
        const parent = part[i]!;
        for (const ref of results[i] ?? []) {
          const id = ref.nodeId.toString();
          if (seen.has(id)) continue;
          if (!rule.includeProperties && ref.referenceTypeId.toString() === hasProperty) continue;
          seen.add(id);
          const path = parent.path ? `${parent.path}/${ref.browseName.name ?? ''}` : (ref.browseName.name ?? '');
          if (exclude?.test(path)) continue;
          // NodeClass.Variable = 2, Object = 1.
          if (ref.nodeClass === 2) {
            if (!include || include.test(path)) found.push({ nodeId: name(ref.nodeId as NodeId), browsePath: path });
          } else if (ref.nodeClass === 1) {
            const typeId = ref.typeDefinition?.toString();
            if (typeId && (await types.isA(typeId, CONDITION_TYPE))) continue;
            next.push({ nodeId: ref.nodeId as NodeId, path });
          }
        }
      }
    }
    frontier = next;
  }
  return found;
}
