import { removeTempDirs, tempDir } from '@weir/testing';
import { join } from 'node:path';
import { AttributeIds, BrowseDirection, type ClientSession, type ReferenceDescription } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, tagCount, type ClientConnection, type PlantSimulator } from '../src/index';
import { readHistory, startTestSimulator } from './helpers';

// 2 sites x 2 areas x 5 lines x 10 machines = 200 machines x (12 standard + 38 extra) = 10,000 tags.
const shape = { sites: 2, areasPerSite: 2, linesPerArea: 5, machinesPerLine: 10, extraTagsPerMachine: 38 };

describe('a 10,000-tag plant', () => {
  let sim: PlantSimulator;
  let conn: ClientConnection;
  let session: ClientSession;
  let startupMs: number;

  beforeAll(async () => {
    const t0 = Date.now();
    sim = await startTestSimulator({ plant: shape, limits: { maxNodesPerBrowse: 500, maxNodesPerRead: 2000 } });
    startupMs = Date.now() - t0;
    conn = await connectClient({ endpointUrl: sim.endpointUrl, identity: { applicationUri: 'urn:weir:test:large', applicationName: 'large', pkiDir: join(tempDir('large'), 'pki') } });
    session = conn.session;
  });

  afterAll(async () => {
    await conn?.close();
    await sim?.stop();
  });

  it('starts and serves every tag in the ISA-95 tree', async () => {
    expect(tagCount({ enterprise: 'Plant', ...shape })).toBe(10_000);
    expect(sim.model.tags).toHaveLength(10_000);
    process.stdout.write(`10,000-tag plant started in ${startupMs} ms\n`);

    const browseAll = async (nodeIds: string[]): Promise<ReferenceDescription[][]> => {
      const out: ReferenceDescription[][] = [];
      for (let i = 0; i < nodeIds.length; i += 500) {
        const results = await session.browse(nodeIds.slice(i, i + 500).map((nodeId) => ({ nodeId, browseDirection: BrowseDirection.Forward, referenceTypeId: 'HierarchicalReferences', includeSubtypes: true, resultMask: 63 })));
        for (const r of results) {
          const seen = new Set<string>();
          out.push((r.references ?? []).filter((ref) => !seen.has(ref.nodeId.toString()) && seen.add(ref.nodeId.toString())));
        }
      }
      return out;
    };
    let level = [sim.nodeId('Plant')];
    for (const expected of [2, 4, 20, 200]) {
      level = (await browseAll(level)).flat().map((r) => r.nodeId.toString());
      expect(level).toHaveLength(expected);
    }
    const tagsPerMachine = await browseAll(level);
    const variables = tagsPerMachine.flat().filter((r) => !r.browseName.name!.endsWith('Alarm'));
    expect(variables).toHaveLength(10_000);
    expect(variables.map((r) => r.nodeId.toString())).toContain(sim.nodeId('Site02.Area02.Line05.Machine10.Tag038'));
  });

  it('reads the live value of every State in one call and serves history of an extra tag', async () => {
    const states = sim.model.tags.filter((t) => t.name === 'State');
    const values = await session.read(states.map((t) => ({ nodeId: sim.nodeId(t.id), attributeId: AttributeIds.Value })));
    expect(values).toHaveLength(200);
    for (const [i, dv] of values.entries()) expect({ time: dv.sourceTimestamp!.getTime(), value: dv.value.value }).toEqual(sim.valueAt(states[i]!.id, dv.sourceTimestamp!));
    const to = Date.now() - 2000;
    const id = 'Site02.Area01.Line03.Machine07.Tag021';
    const { samples } = await readHistory(session, sim.nodeId(id), to - 3_600_000, to, 2000);
    expect(samples).toEqual(sim.samplesBetween(id, to - 3_600_000, to));
  });
});

afterAll(() => removeTempDirs());
