import type { FieldValue } from '../detection-event';

/** An event as remembered in state: enough to cite it in an alert. */
export interface EventRef {
  id: string;
  time: number;
  origin: string;
  assetId?: string;
  assetPath?: string;
}

/** One remembered match inside a correlation window. */
export interface WindowEntry {
  /** Event time, ms. */
  t: number;
  /** Index of the referenced rule in the correlation's `rules` (temporal types). */
  r: number;
  /** The value counted by value_count. */
  v?: string;
  /** The events behind this entry (one for a detection match, several for a chained correlation). */
  ev: EventRef[];
}

/** A work order as the absence extension needs it. */
export interface WorkOrderEntry {
  assetId: string;
  status: string;
  from: number;
  to?: number;
}

/** An incident: one alert and its updates. */
export interface IncidentEntry {
  uid: string;
  ruleId: string;
  first: number;
  last: number;
  lastEmitted: number;
  related: EventRef[];
  groupValues: Record<string, FieldValue>;
}

/**
 * The engine's whole state as plain JSON: correlation windows, first-seen
 * values, work orders, open incidents and the event-time watermark. Write it
 * with the input offsets it reflects; `DetectionEngine.restore` takes it back.
 */
export interface EngineState {
  version: 1;
  /** Highest event time processed, ms (-Infinity is stored as null). */
  maxTime: number | null;
  /** Highest event time per input stream (`stream`, else `origin`): the watermark follows the slowest. */
  maxTimeByOrigin: Record<string, number>;
  /** rule id -> group key -> entries. */
  windows: Record<string, Record<string, WindowEntry[]>>;
  /** rule id -> learning start and the value combinations seen. */
  firstSeen: Record<string, { start: number; seen: string[] }>;
  workOrders: Record<string, WorkOrderEntry>;
  /** incident key -> incident. */
  incidents: Record<string, IncidentEntry>;
  /** Events processed, for metrics. */
  processed: number;
}

/** A fresh, empty state. */
export function emptyEngineState(): EngineState {
  return { version: 1, maxTime: null, maxTimeByOrigin: {}, windows: {}, firstSeen: {}, workOrders: {}, incidents: {}, processed: 0 };
}
