import { coerceNodeId, type NodeId } from 'node-opcua';

const IDENTIFIER = /^(i=\d+|s=.+|g=[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|b=[A-Za-z0-9+/=]*)$/s;

/**
 * Normalises a configured node id to `ns=<i>;<id>`, `nsu=<uri>;<id>` or, for
 * namespace 0, `<id>`. Accepts the OPC UA string forms (`ns=2;s=X`, `i=2258`,
 * ExpandedNodeId `nsu=urn:x;s=X`) and OPC Publisher's `<namespace uri>#<id>`.
 * Returns an error text when it is none of them.
 */
export function normalizeNodeId(text: string): { ok: true; nodeId: string } | { ok: false; problem: string } {
  const s = text.trim();
  if (s.length === 0) return { ok: false, problem: 'is empty' };
  if (s.startsWith('svr=')) return { ok: false, problem: `"${s}" points to another server (svr=); only this endpoint's nodes can be read` };
  let m = /^ns=(\d+);(.*)$/s.exec(s);
  if (m) return IDENTIFIER.test(m[2]!) ? { ok: true, nodeId: Number(m[1]) === 0 ? m[2]! : `ns=${Number(m[1])};${m[2]!}` } : { ok: false, problem: `"${s}" has no valid identifier (i=, s=, g= or b=)` };
  m = /^nsu=([^;]+);(.*)$/s.exec(s);
  if (m) return IDENTIFIER.test(m[2]!) ? { ok: true, nodeId: m[1] === 'http://opcfoundation.org/UA/' ? m[2]! : `nsu=${m[1]!};${m[2]!}` } : { ok: false, problem: `"${s}" has no valid identifier (i=, s=, g= or b=)` };
  if (IDENTIFIER.test(s)) return { ok: true, nodeId: s };
  // OPC Publisher's "IIoT" form: {NamespaceUri}#{NodeIdentifier}. The identifier may itself hold '#', the URI may too; the
  // split is at the last '#' followed by an identifier prefix.
  m = /^(.+)#([isgb]=.*)$/s.exec(s);
  if (m && IDENTIFIER.test(m[2]!)) return normalizeNodeId(`nsu=${m[1]!};${m[2]!}`);
  return { ok: false, problem: `"${s}" is not a NodeId (ns=<index>;s=<name>, nsu=<uri>;i=<n>, i=<n>, <uri>#s=<name>)` };
}

/**
 * Resolves a normalised node id against the server's namespace array.
 * Throws when an `nsu=` URI is not in the array.
 */
export function resolveConfiguredNodeId(nodeId: string, namespaces: readonly string[]): NodeId {
  const m = /^nsu=([^;]+);(.*)$/s.exec(nodeId);
  if (!m) return coerceNodeId(nodeId);
  const index = namespaces.indexOf(m[1]!);
  if (index < 0) throw new Error(`namespace ${m[1]} of ${nodeId} is not served by this server`);
  return coerceNodeId(`ns=${index};${m[2]!}`);
}
