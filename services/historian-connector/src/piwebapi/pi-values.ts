import type { JsonValue } from '@weir/contracts';
import { StatusCodes } from '@weir/domain';
import type { SourceSample } from '../core/source';
import { piErrors } from './pi-web-api.client';

/** A PI digital state as PI Web API writes it in `Value`. */
interface DigitalState {
  Name: string;
  Value: number;
  IsSystem?: boolean;
}

const isDigitalState = (v: unknown): v is DigitalState => !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as DigitalState).Name === 'string' && typeof (v as DigitalState).Value === 'number';

/** System digital states (PI's `SYSTEM` set) that say why there is no value, in OPC UA terms; others are plain Bad. */
const SYSTEM_STATES: Record<string, number> = {
  'no data': StatusCodes.BadNoData,
  'pt created': StatusCodes.BadNoData,
  'comm fail': StatusCodes.BadNoCommunication,
  'i/o timeout': StatusCodes.BadNoCommunication,
  shutdown: StatusCodes.BadOutOfService,
  'out of serv': StatusCodes.BadOutOfService,
  'bad input': StatusCodes.BadSensorFailure,
  'data lost': StatusCodes.BadDataLost,
};

/**
 * The OPC UA status of a PI value: `Good: false` or a system digital state
 * is Bad (the state's meaning where known: No Data → BadNoData, Comm Fail /
 * I/O Timeout → BadNoCommunication, Shutdown → BadOutOfService, ...);
 * `Questionable` is Uncertain; `Substituted` (a value replaced by hand) is
 * UncertainSubstituteValue; else Good.
 */
export function piStatus(item: { Good?: unknown; Questionable?: unknown; Substituted?: unknown }, value: unknown): number {
  if (isDigitalState(value) && value.IsSystem === true) return SYSTEM_STATES[value.Name.trim().toLowerCase()] ?? StatusCodes.Bad;
  if (item.Good === false) return StatusCodes.Bad;
  if (item.Questionable === true) return StatusCodes.Uncertain;
  if (item.Substituted === true) return StatusCodes.UncertainSubstituteValue;
  return StatusCodes.Good;
}

/** One PI timed value as a sample, or why it cannot be one. */
export type PiValueResult = { ok: true; sample: SourceSample; time: number } | { ok: false; problem: string };

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Maps PI Web API's timed value (`Timestamp`, `Value`, `Good`,
 * `Questionable`, `Substituted`, ...) to a sample. Numbers, text and booleans
 * pass as they are; a digital state passes as its name (`dataType`
 * `DigitalState`); anything else (arrays, other objects) is the wrong type.
 * The timestamp is kept as PI wrote it (sub-millisecond digits included).
 */
export function piValueToSample(nodeId: string, item: unknown): PiValueResult {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return { ok: false, problem: `not a timed value: ${JSON.stringify(item)?.slice(0, 100)}` };
  const v = item as { Timestamp?: unknown; Value?: unknown; Good?: unknown; Questionable?: unknown; Substituted?: unknown; Errors?: unknown };
  const errors = piErrors(v);
  if (errors) return { ok: false, problem: `value with errors: ${errors}` };
  if (typeof v.Timestamp !== 'string' || !ISO_WITH_OFFSET.test(v.Timestamp)) return { ok: false, problem: `Timestamp ${JSON.stringify(v.Timestamp)} is not an ISO 8601 time with an offset` };
  const time = Date.parse(v.Timestamp);
  if (!Number.isFinite(time)) return { ok: false, problem: `Timestamp ${v.Timestamp} is not a valid time` };
  let value: JsonValue;
  let dataType: string;
  const raw = v.Value;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return { ok: false, problem: `Value ${String(raw)} is not finite` };
    value = raw;
    dataType = 'Double';
  } else if (typeof raw === 'string') {
    value = raw;
    dataType = 'String';
  } else if (typeof raw === 'boolean') {
    value = raw;
    dataType = 'Boolean';
  } else if (isDigitalState(raw)) {
    value = raw.Name;
    dataType = 'DigitalState';
  } else if (raw === null && v.Good === false) {
    value = null;
    dataType = 'Null';
  } else {
    return { ok: false, problem: `Value ${JSON.stringify(raw)?.slice(0, 100) ?? 'undefined'} is of a type a PI point cannot have` };
  }
  return { ok: true, time, sample: { nodeId, value, dataType, status: piStatus(v, raw), sourceTime: v.Timestamp } };
}
