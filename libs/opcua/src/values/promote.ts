import { promoteOpaqueStructure, type ClientSession, type DataValue } from 'node-opcua';

/**
 * Decodes, in place, structures that arrived opaque (the client did not know
 * their type yet): node-opcua reads the server's DataTypeDefinition (or type
 * dictionary) once per type — reads only — and builds the decoder at run
 * time. `raw_notification` delivers values before node-opcua does this itself.
 */
export async function promoteOpaque(session: ClientSession, values: readonly DataValue[]): Promise<void> {
  await promoteOpaqueStructure(session, values.filter((dv) => dv?.value).map((dv) => ({ value: dv.value })));
}
