/** A value of a normalised event field. */
export type FieldValue = string | number | boolean | null | readonly FieldValue[];

/**
 * One event in the engine's normalised model: flat dotted field names
 * (`user.name`, `src.ip`, `ot.node_id`), a time in ms since the epoch taken
 * from the event itself (never the wall clock), and where it came from.
 */
export interface DetectionEvent {
  /** Unique id of the source event (`ot.events.v1:<eventId>`), used in `related_events`. */
  id: string;
  /** Source time of the event, ms since the epoch. */
  time: number;
  /** The topic (without prefix) or store the event came from. */
  origin: string;
  /** The ordered stream the event was read from (`<topic>:<partition>`), for the watermark; `origin` when absent. */
  stream?: string;
  /** Normalised fields; absent fields are simply missing. */
  fields: Record<string, FieldValue>;
}

/** The value of `name` in `event`, or undefined when the event has no such field. */
export function fieldOf(event: DetectionEvent, name: string): FieldValue | undefined {
  return Object.prototype.hasOwnProperty.call(event.fields, name) ? event.fields[name] : undefined;
}
