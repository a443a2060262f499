import type { ClientSession, OPCUAClient } from 'node-opcua';
import { OpcuaError } from '../opcua-error';

/**
 * The OPC UA requests a Weir connector may send: discovery, the secure channel
 * and session, reading, browsing, history *reading*, subscriptions and
 * monitored items. Everything else — Write, Call, HistoryUpdate, AddNodes,
 * DeleteNodes, AddReferences, DeleteReferences, RegisterServer, and any request
 * type a later node-opcua adds — is refused. A list of what is allowed rather
 * than of what is forbidden, so that "read-only" holds by construction.
 */
export const ALLOWED_REQUEST_TYPES: ReadonlySet<string> = new Set([
  'GetEndpointsRequest',
  'FindServersRequest',
  'FindServersOnNetworkRequest',
  'OpenSecureChannelRequest',
  'CloseSecureChannelRequest',
  'CreateSessionRequest',
  'ActivateSessionRequest',
  'CloseSessionRequest',
  'CancelRequest',
  'ReadRequest',
  'BrowseRequest',
  'BrowseNextRequest',
  'TranslateBrowsePathsToNodeIdsRequest',
  'RegisterNodesRequest',
  'UnregisterNodesRequest',
  'HistoryReadRequest',
  'CreateSubscriptionRequest',
  'ModifySubscriptionRequest',
  'SetPublishingModeRequest',
  'DeleteSubscriptionsRequest',
  'TransferSubscriptionsRequest',
  'CreateMonitoredItemsRequest',
  'ModifyMonitoredItemsRequest',
  'SetMonitoringModeRequest',
  'SetTriggeringRequest',
  'DeleteMonitoredItemsRequest',
  'PublishRequest',
  'RepublishRequest',
]);

/**
 * Session methods that would send a refused request (or exist only to do so:
 * condition acknowledgement and comments are method calls). The facade throws
 * on these by name, with a message that says which service was refused,
 * before any request object is even built.
 */
export const REFUSED_SESSION_METHODS: ReadonlySet<string> = new Set([
  'write',
  'writeSingleNode',
  'call',
  'callMethod',
  'getMonitoredItems',
  'historyUpdate',
  'addNodes',
  'addReferences',
  'deleteNodes',
  'deleteReferences',
  'acknowledgeCondition',
  'confirmCondition',
  'addCommentCondition',
  'enableCondition',
  'disableCondition',
  '_callMethodCondition',
]);

/** The name of an OPC UA request object (`WriteRequest`), as node-opcua's schema names it. */
export function requestTypeName(request: unknown): string {
  if (request === null || typeof request !== 'object') return String(request);
  const schemaName = (request as { schema?: { name?: unknown } }).schema?.name;
  if (typeof schemaName === 'string') return schemaName;
  return (request as object).constructor?.name ?? 'unknown';
}

/** The error every refused service raises; `OPCUA.WRITE_REFUSED` whatever was attempted. */
export function writeRefused(what: string): OpcuaError {
  return new OpcuaError('OPCUA.WRITE_REFUSED', `${what} refused: the Weir OPC UA session is read-only by construction (nothing was sent to the server)`);
}

/** Throws `OPCUA.WRITE_REFUSED` unless `request` is on the allowed list. */
export function assertReadOnlyRequest(request: unknown): void {
  const name = requestTypeName(request);
  if (!ALLOWED_REQUEST_TYPES.has(name)) throw writeRefused(name);
}

type TransactionCallback = (err: Error | null, response?: unknown) => void;
interface Transacting {
  performMessageTransaction(request: unknown, callback: TransactionCallback): void;
}

const GUARDED = Symbol.for('weir.opcua.read-only-guard');

// Replaces an object's performMessageTransaction with one that refuses, through the callback
// (node-opcua's own error path), any request not on the allowed list.
function guardTransactions(target: Transacting): void {
  const marked = target as Transacting & { [GUARDED]?: true };
  if (marked[GUARDED]) return;
  const original = target.performMessageTransaction.bind(target);
  Object.defineProperty(target, 'performMessageTransaction', {
    configurable: false,
    writable: false,
    enumerable: false,
    value: (request: unknown, callback: TransactionCallback): void => {
      try {
        assertReadOnlyRequest(request);
      } catch (err) {
        callback(err as Error);
        return;
      }
      original(request, callback);
    },
  });
  Object.defineProperty(target, GUARDED, { value: true });
}

/**
 * Makes a node-opcua client read-only at the two places every request passes:
 * the client's `performMessageTransaction` (all session and discovery
 * services) and the secure channel's (in case code reaches the channel
 * directly). The channel is replaced on every reconnection, so the client's
 * `_secureChannel` slot is turned into an accessor that guards each new one.
 * Call once, right after `OPCUAClient.create` and before `connect`.
 */
export function guardClient(client: OPCUAClient): void {
  guardTransactions(client as unknown as Transacting);
  const slot = client as unknown as { _secureChannel: Transacting | null };
  let channel = slot._secureChannel;
  if (channel) guardTransactions(channel);
  Object.defineProperty(slot, '_secureChannel', {
    configurable: false,
    enumerable: true,
    get: () => channel,
    set: (next: Transacting | null) => {
      if (next) guardTransactions(next);
      channel = next;
    },
  });
}

/**
 * What the connector may do with a session: read, browse, translate, history
 * read, subscribe and close. The type is the first line of defence (code
 * using it cannot even name `write`); the Proxy behind it the second; the
 * client guard the third.
 */
export type ReadOnlySession = Pick<
  ClientSession,
  | 'read'
  | 'readVariableValue'
  | 'browse'
  | 'browseNext'
  | 'translateBrowsePath'
  | 'historyRead'
  | 'readHistoryValue'
  | 'readNamespaceArray'
  | 'getNamespaceIndex'
  | 'getBuiltInDataType'
  | 'createSubscription2'
  | 'close'
  | 'sessionId'
  | 'endpoint'
  | 'timeout'
  | 'on'
  | 'once'
  | 'removeListener'
  | 'isReconnecting'
>;

/**
 * Wraps a session in a Proxy that throws `OPCUA.WRITE_REFUSED` for every
 * method that changes the server (see `REFUSED_SESSION_METHODS`) and checks
 * the request type of anything passed to `performMessageTransaction`. Other
 * methods are bound to the real session (node-opcua uses private class
 * fields, which a Proxy receiver cannot reach). The result can be handed to
 * node-opcua helpers (`ClientSubscription.create`, `promoteOpaqueStructure`)
 * as a `ClientSession`.
 */
export function readOnlySession(session: ClientSession): ClientSession & ReadOnlySession {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(session, {
    get(target, prop, _receiver) {
      if (typeof prop === 'string' && REFUSED_SESSION_METHODS.has(prop)) {
        return () => {
          throw writeRefused(`session.${prop}()`);
        };
      }
      if (prop === 'performMessageTransaction') {
        return (request: unknown, ...rest: unknown[]) => {
          assertReadOnlyRequest(request);
          return ((target as unknown as Record<string, unknown>)['performMessageTransaction'] as (...args: unknown[]) => unknown).call(target, request, ...rest);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      let fn = bound.get(prop);
      if (!fn) {
        fn = (value as (...args: unknown[]) => unknown).bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
    set(target, prop, value) {
      // Replacing a method on the facade could re-open a refused service; only data may be set.
      if (typeof value === 'function' || (typeof prop === 'string' && (REFUSED_SESSION_METHODS.has(prop) || prop === 'performMessageTransaction'))) {
        throw writeRefused(`replacing session.${String(prop)}`);
      }
      return Reflect.set(target, prop, value, target);
    },
    defineProperty() {
      throw writeRefused('redefining a session property');
    },
  }) as ClientSession & ReadOnlySession;
}
