import type { JsonValue, OtEventV1 } from '@weir/contracts';
import type { DetectionEvent, FieldValue } from '../detection-event';

/** The asset of an OT node or source, as the deployment maps it (e.g. with `compileAssetMapping` from @weir/domain). */
export type AssetResolver = (ref: { sourceId: string; nodeId?: string; browsePath?: string }) => { id: string; path?: string } | undefined;

const scalar = (v: JsonValue | undefined): FieldValue | undefined => (v === undefined || (typeof v === 'object' && v !== null) ? undefined : v);

function lastSegment(text: string | undefined): string {
  if (!text) return '';
  const m = /([^./;=]+)$/.exec(text);
  return m?.[1] ?? text;
}

type TargetClass = 'mode_change' | 'setpoint_change' | 'alarm_config_change' | 'alarm_suppression' | 'program_download';

// The same few node and method names recur in every event of a plant: classify each once.
const TARGET_CACHE = new Map<string, TargetClass | null>();

/** What a written node or a called method does to the plant, judged by its name. */
export function classifyTarget(name: string): TargetClass | undefined {
  let c = TARGET_CACHE.get(name);
  if (c === undefined) {
    if (TARGET_CACHE.size >= 10_000) TARGET_CACHE.clear();
    c = classifyName(name) ?? null;
    TARGET_CACHE.set(name, c);
  }
  return c ?? undefined;
}

function classifyName(name: string): TargetClass | undefined {
  if (/(suppress|shelve|silence|inhibit|disable.*alarm|alarm.*disable)/i.test(name)) return 'alarm_suppression';
  if (/(limit|alarm.*(enable|level|delay|deadband)|(hi|lo)(hi|lo)?alarm)/i.test(name)) return 'alarm_config_change';
  if (/(download|program|firmware|logic|project)/i.test(name)) return 'program_download';
  if (/mode/i.test(name)) return 'mode_change';
  if (/(setpoint|set_point|(^|[^a-z])sp$|target)/i.test(name)) return 'setpoint_change';
  return undefined;
}

/**
 * Normalises an event of `ot.events.v1` into the engine's model (field table
 * in the README): audit writes, method calls, sessions, certificate errors,
 * alarms, connection changes, gaps; operating-mode, setpoint, alarm-setting
 * and program-download actions are recognised from the node or method name.
 */
export function normaliseOtEvent(e: OtEventV1, resolveAsset?: AssetResolver): DetectionEvent {
  const f: Record<string, FieldValue> = {
    'event.source': 'ot',
    'event.kind': e.kind,
    'event.type': e.type,
    'event.severity': e.severity,
    message: e.message,
    'ot.source_id': e.sourceId,
  };
  if (e.nodeId) f['ot.node_id'] = e.nodeId;
  if (e.browsePath) f['ot.browse_path'] = e.browsePath;
  if (e.actor?.user) f['user.name'] = e.actor.user;
  if (e.actor?.clientAddress) {
    // Addresses may come as `opc.tcp://10.0.0.5:4840` or `10.0.0.5:51234`; the host part is what rules compare.
    const host = /^(?:[a-z.]+:\/\/)?\[?([^\]/]+?)\]?(?::\d+)?(?:\/.*)?$/i.exec(e.actor.clientAddress)?.[1] ?? e.actor.clientAddress;
    f['ot.client_address'] = host;
    f['src.ip'] = host;
  }
  if (e.actor?.clientApplicationUri) f['ot.client_app'] = e.actor.clientApplicationUri;
  if (e.actor?.sessionId) f['ot.session_id'] = e.actor.sessionId;
  const attrs = e.attributes;
  const oldValue = scalar(attrs['oldValue']);
  const newValue = scalar(attrs['newValue']);
  if (oldValue !== undefined) f['ot.old_value'] = oldValue;
  if (newValue !== undefined) f['ot.new_value'] = newValue;
  const method = scalar(attrs['methodName']) ?? scalar(attrs['methodId']);
  if (method !== undefined && method !== null) f['ot.method'] = String(method);
  const status = attrs['status'];
  if (typeof status === 'boolean') f['event.outcome'] = status ? 'success' : 'failure';
  const type = e.type.toLowerCase();
  let category = 'ot_other';
  let action = e.type;
  if (e.kind === 'audit') {
    if (type.includes('certificate')) {
      category = 'ot_certificate';
      action = 'certificate_error';
    } else if (type.includes('session')) {
      category = 'ot_session';
      action = type.includes('create') ? 'session_create' : type.includes('activate') ? 'session_activate' : type.includes('cancel') || type.includes('close') ? 'session_close' : 'session';
    } else if (type.includes('method') || type.includes('call')) {
      category = 'ot_method_call';
      action = classifyTarget(`${String(method ?? '')} ${lastSegment(e.nodeId)}`) ?? 'method_call';
    } else if (type.includes('write')) {
      category = 'ot_write';
      action = classifyTarget(lastSegment(e.browsePath ?? e.nodeId)) ?? 'write';
    } else {
      category = 'ot_audit';
      action = 'audit';
    }
  } else if (e.kind === 'alarm') {
    category = 'ot_alarm';
    const suppressed = e.alarm?.suppressed === true || type.includes('shelved');
    action = suppressed ? 'alarm_suppressed' : e.alarm?.active ? 'alarm_active' : 'alarm_inactive';
    if (e.alarm) {
      f['alarm.condition_id'] = e.alarm.conditionId;
      f['alarm.active'] = e.alarm.active;
      if (e.alarm.suppressed !== undefined) f['alarm.suppressed'] = e.alarm.suppressed;
      if (e.alarm.limitState) f['alarm.limit_state'] = e.alarm.limitState;
    }
  } else if (e.kind === 'connection') {
    category = 'ot_connection';
    action = type.replace(/^connector\./, '').replace(/-/g, '_');
  } else if (e.kind === 'gap') {
    category = 'ot_gap';
    action = 'gap';
    if (e.gap) {
      f['gap.from'] = e.gap.from;
      f['gap.to'] = e.gap.to;
      f['gap.reason'] = e.gap.reason;
      f['gap.duration_s'] = (Date.parse(e.gap.to) - Date.parse(e.gap.from)) / 1000;
    }
  } else if (e.kind === 'model-change') {
    category = 'ot_model_change';
    action = 'model_change';
  }
  f['event.category'] = category;
  f['event.action'] = action;
  const asset = resolveAsset?.({ sourceId: e.sourceId, ...(e.nodeId ? { nodeId: e.nodeId } : {}), ...(e.browsePath ? { browsePath: e.browsePath } : {}) });
  if (asset) {
    f['asset.id'] = asset.id;
    if (asset.path) f['asset.path'] = asset.path;
  }
  return { id: `ot.events.v1:${e.sourceId}:${e.eventId}`, time: Date.parse(e.time), origin: 'ot.events.v1', fields: f };
}
