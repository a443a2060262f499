import { z } from 'zod';

/** An instant as ISO 8601 with an explicit offset (`Z` or `+hh:mm`), up to nanosecond digits. */
export const isoTime = z.iso.datetime({ offset: true });

/**
 * An OPC UA StatusCode (Part 4, 7.39) as its 32-bit unsigned value; the top two
 * bits give the severity: 00 Good, 01 Uncertain, 10 Bad.
 */
export const statusCode = z.number().int().min(0).max(0xffffffff);

/** A JSON value as carried in a message: scalars, arrays and objects (decoded OPC UA structures). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** Validates any JSON value. */
export const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

/** A per-source sequence number: strictly increasing per `sourceId`, surviving restarts; a hole is a gap. */
export const sequenceNumber = z.number().int().nonnegative();

/** Identifier of a data source (one OPC UA endpoint, one historian, one file drop). */
export const sourceId = z.string().min(1).max(200).regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and . _ : / - only');
