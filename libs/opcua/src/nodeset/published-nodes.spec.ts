import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isOpcuaError } from '../opcua-error';
import { normalizeNodeId } from './node-id';
import { loadPublishedNodesFile, parsePublishedNodes } from './published-nodes';
import { sourceSettingsSchema, toSourceConfig } from './source-settings';
import { parseTimespan } from './timespan';

describe('parseTimespan', () => {
  it.each([
    ['00:00:01', 1000],
    ['00:00:00.500', 500],
    ['00:00:00.0005', 1],
    ['01:02:03', 3_723_000],
    ['1.00:00:00', 86_400_000],
    ['2', 172_800_000],
    ['00:10', 600_000],
    ['-00:00:01', -1000],
  ])('%s is %i ms', (text, ms) => expect(parseTimespan(text)).toBe(ms));
  it.each(['1s', '00:61:00', 'abc', '', '1:2:3:4'])('refuses %j', (text) => expect(parseTimespan(text)).toBeUndefined());
});

describe('normalizeNodeId', () => {
  it.each([
    ['ns=2;s=Line1.Speed', 'ns=2;s=Line1.Speed'],
    ['i=2258', 'i=2258'],
    ['ns=0;i=2258', 'i=2258'],
    ['nsu=urn:weir:plant;s=A.B', 'nsu=urn:weir:plant;s=A.B'],
    ['nsu=http://opcfoundation.org/UA/;i=2253', 'i=2253'],
    ['urn:weir:plant#s=A.B', 'nsu=urn:weir:plant;s=A.B'],
    ['http://x.org/UA/Demo/#i=1005', 'nsu=http://x.org/UA/Demo/;i=1005'],
    ['ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a', 'ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a'],
  ])('%s -> %s', (text, nodeId) => expect(normalizeNodeId(text)).toEqual({ ok: true, nodeId }));
  it.each(['Speed', 'ns=2;x=1', 'svr=1;ns=2;s=A', ''])('refuses %j', (text) => expect(normalizeNodeId(text).ok).toBe(false));
});

describe('parsePublishedNodes', () => {
  it('reads the documented 2.9 entry with every node option', () => {
    const { sources, warnings } = parsePublishedNodes(
      [
        {
          EndpointUrl: 'opc.tcp://plc1:4840',
          UseSecurity: true,
          OpcAuthenticationMode: 'UsernamePassword',
          OpcAuthenticationUsername: 'reader',
          OpcAuthenticationPassword: 'pw',
          DataSetWriterGroup: 'line1',
          DataSetWriterId: 'fast',
          DataSetPublishingInterval: 2000,
          MessagingMode: 'PubSub',
          OpcNodes: [
            { Id: 'i=2258', OpcSamplingInterval: 500, OpcPublishingInterval: 1000, DisplayName: 'Current time', HeartbeatInterval: 10, SkipFirst: true, QueueSize: 10, DataChangeTrigger: 'StatusValueTimestamp', DeadbandType: 'Absolute', DeadbandValue: 0.5, DiscardNew: true },
            { ExpandedNodeId: 'nsu=urn:plant;s=Speed', OpcSamplingIntervalTimespan: '00:00:00.250', HeartbeatIntervalTimespan: '00:01:00', DeadbandType: 'percent', DeadbandValue: 150 },
          ],
        },
      ],
      'pn.json',
    );
    expect(warnings).toEqual([]);
    expect(sources).toHaveLength(1);
    const s = sources[0]!;
    expect(s).toMatchObject({ id: 'line1', endpointUrl: 'opc.tcp://plc1:4840', securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', identity: { type: 'username', username: 'reader', password: 'pw' } });
    expect(s.nodes[0]).toEqual({ nodeId: 'i=2258', displayName: 'Current time', samplingIntervalMs: 500, publishingIntervalMs: 1000, queueSize: 10, discardOldest: false, dataChangeTrigger: 'StatusValueTimestamp', heartbeatIntervalMs: 10_000, skipFirst: true, deadband: { type: 'Absolute', value: 0.5 } });
    // The entry's DataSetPublishingInterval applies where the node has none; percent deadbands are clamped to 100.
    expect(s.nodes[1]).toEqual({ nodeId: 'nsu=urn:plant;s=Speed', samplingIntervalMs: 250, publishingIntervalMs: 2000, queueSize: 1, discardOldest: true, dataChangeTrigger: 'StatusValue', heartbeatIntervalMs: 60_000, skipFirst: false, deadband: { type: 'Percent', value: 100 } });
  });

  it('reads the legacy 2.5 NodeId { Identifier } form and merges entries of one endpoint into one source', () => {
    const { sources } = parsePublishedNodes(
      [
        { EndpointUrl: 'opc.tcp://plc1:4840', NodeId: { Identifier: 'ns=2;s=A' } },
        { EndpointUrl: 'opc.tcp://plc1:4840', NodeId: { Identifier: 'urn:x#s=B' } },
        { endpointurl: 'opc.tcp://plc1:4840', opcnodes: [{ id: 'ns=2;s=C', opcsamplinginterval: '100' }] },
      ],
      'legacy.json',
    );
    expect(sources).toHaveLength(1);
    expect(sources[0]!.id).toBe('opc.tcp://plc1:4840');
    expect(sources[0]!.nodes.map((n) => [n.nodeId, n.samplingIntervalMs])).toEqual([
      ['ns=2;s=A', 1000],
      ['nsu=urn:x;s=B', 1000],
      ['ns=2;s=C', 100],
    ]);
  });

  it('maps security modes and policy names or URIs', () => {
    const parse = (entry: object) => parsePublishedNodes([{ EndpointUrl: 'opc.tcp://h:1', OpcNodes: [{ Id: 'i=1' }], ...entry }], 'f').sources[0]!;
    expect(parse({})).toMatchObject({ securityMode: 'None', securityPolicy: 'None' });
    expect(parse({ EndpointSecurityMode: 'Sign', EndpointSecurityPolicy: 'http://opcfoundation.org/UA/SecurityPolicy#Aes128_Sha256_RsaOaep' })).toMatchObject({ securityMode: 'Sign', securityPolicy: 'Aes128_Sha256_RsaOaep' });
    // "Best" never falls back to None here.
    expect(parse({ EndpointSecurityMode: 'Best' })).toMatchObject({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' });
  });

  it('turns event filters into event sources: simple TypeDefinitionId and advanced select/where', () => {
    const { sources } = parsePublishedNodes(
      [
        {
          EndpointUrl: 'opc.tcp://h:1',
          OpcNodes: [
            { Id: 'i=2253', DisplayName: 'alarms', EventFilter: { TypeDefinitionId: 'i=2915' } },
            {
              Id: 'i=2253',
              EventFilter: {
                SelectClauses: [{ TypeDefinitionId: 'i=2041', BrowsePath: ['EventId'] }, { TypeDefinitionId: 'ns=2;i=235', BrowsePath: ['/2:CycleId'] }],
                WhereClause: { Elements: [{ FilterOperator: 'OfType', FilterOperands: [{ Value: 'ns=2;i=235' }] }] },
              },
            },
          ],
        },
      ],
      'ev.json',
    );
    const s = sources[0]!;
    expect(s.nodes).toEqual([]);
    expect(s.events[0]).toMatchObject({ notifierId: 'i=2253', displayName: 'alarms', typeDefinitionId: 'i=2915' });
    expect(s.events[1]!.extraFields).toEqual([
      { typeDefinitionId: 'i=2041', browsePath: ['EventId'], name: 'EventId' },
      { typeDefinitionId: 'ns=2;i=235', browsePath: ['2:CycleId'], name: '2:CycleId' },
    ]);
    expect(s.events[1]!.whereClause).toEqual({ elements: [{ operator: 'OfType', operands: [{ kind: 'literal', value: 'ns=2;i=235' }] }] });
  });

  it('reports every problem at once, naming the file, the entry, the node and the field', () => {
    try {
      parsePublishedNodes(
        [
          { EndpointUrl: 'http://wrong', OpcNodes: [{ Id: 'Speed' }] },
          { EndpointUrl: 'opc.tcp://h:1', EndpointSecurityMode: 'Secure', OpcNodes: [{ Id: 'i=1', OpcSamplingIntervalTimespan: '1 second', QueueSize: 'ten' }, {}] },
          'not an object',
          { EndpointUrl: 'opc.tcp://h:2', EncryptedAuthUsername: 'xx', OpcNodes: [{ Id: 'i=2', AttributeId: 'DisplayName' }] },
        ],
        'bad.json',
      );
      expect.unreachable();
    } catch (err) {
      expect(isOpcuaError(err, 'OPCUA.NODESET_INVALID')).toBe(true);
      const text = (err as Error).message;
      expect(text).toContain('bad.json: entry 1 (http://wrong): EndpointUrl "http://wrong" is not an opc.tcp:// URL');
      expect(text).toContain('bad.json: entry 1 (http://wrong), OpcNodes[0] (Speed): Id "Speed" is not a NodeId');
      expect(text).toContain('bad.json: entry 2 (opc.tcp://h:1): EndpointSecurityMode must be one of None, Sign, SignAndEncrypt, Best, SignOrSignAndEncrypt, not "Secure"');
      expect(text).toContain('entry 2 (opc.tcp://h:1), OpcNodes[0] (i=1): OpcSamplingIntervalTimespan "1 second" is not a TimeSpan');
      expect(text).toContain('entry 2 (opc.tcp://h:1), OpcNodes[0] (i=1): QueueSize must be an integer, not "ten"');
      expect(text).toContain('entry 2 (opc.tcp://h:1), OpcNodes[1]: Id is required (or ExpandedNodeId)');
      expect(text).toContain('bad.json: entry 3: must be an object');
      expect(text).toContain('entry 4 (opc.tcp://h:2): EncryptedAuthUsername/EncryptedAuthPassword hold credentials encrypted');
      expect(text).toContain('OpcNodes[0] (i=2): AttributeId "DisplayName": only Value is monitored');
    }
  });

  it('warns about unknown fields and duplicate nodes instead of failing', () => {
    const { sources, warnings } = parsePublishedNodes([{ EndpointUrl: 'opc.tcp://h:1', Colour: 'red', OpcNodes: [{ Id: 'i=1', OpcSamplingIntervall: 5 }, { Id: 'i=1' }] }], 'w.json');
    expect(sources[0]!.nodes).toHaveLength(1);
    expect(warnings).toEqual([
      'w.json: entry 1 (opc.tcp://h:1): unknown field Colour ignored',
      'w.json: entry 1 (opc.tcp://h:1), OpcNodes[0] (i=1): unknown field OpcSamplingIntervall ignored',
      'w.json: entry 1 (opc.tcp://h:1): node i=1 is configured twice for source opc.tcp://h:1; the first configuration is used',
    ]);
  });

  it('refuses one writer group used for two endpoints', () => {
    expect(() =>
      parsePublishedNodes(
        [
          { EndpointUrl: 'opc.tcp://a:1', DataSetWriterGroup: 'g', OpcNodes: [{ Id: 'i=1' }] },
          { EndpointUrl: 'opc.tcp://b:1', DataSetWriterGroup: 'g', OpcNodes: [{ Id: 'i=1' }] },
        ],
        'g.json',
      ),
    ).toThrow(/entry 2 \(opc.tcp:\/\/b:1\): DataSetWriterGroup "g" is also used/);
  });

  it('names a file that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pn-'));
    writeFileSync(join(dir, 'pn.json'), '[{ "EndpointUrl": ');
    expect(() => loadPublishedNodesFile(join(dir, 'pn.json'))).toThrow(/OPCUA.NODESET_INVALID: .*pn.json: cannot be read as JSON/);
  });
});

describe('our YAML source settings', () => {
  it('fills node settings from the source defaults, then the built-in ones', () => {
    const s = sourceSettingsSchema.parse({
      id: 'plant-1',
      endpointUrl: 'opc.tcp://127.0.0.1:4840',
      auth: { type: 'username', username: 'u', password: 'p' },
      defaults: { publishingInterval: '500ms', heartbeatInterval: '1m' },
      nodes: ['ns=2;s=A', { nodeId: 'ns=2;s=B', samplingInterval: 100, deadband: { type: 'percent', value: 2 } }, 'ns=2;s=A'],
      browse: [{ root: 'nsu=urn:weir:plant-simulator:plant;s=Plant', maxDepth: 3, include: 'Temperature$' }],
      events: [{}],
    });
    const c = toSourceConfig(s, 'weir.yaml');
    expect(c.securityMode).toBe('SignAndEncrypt');
    expect(c.nodes).toEqual([
      { nodeId: 'ns=2;s=A', samplingIntervalMs: 0, publishingIntervalMs: 500, queueSize: 100, discardOldest: true, dataChangeTrigger: 'StatusValue', heartbeatIntervalMs: 60_000, skipFirst: false },
      { nodeId: 'ns=2;s=B', samplingIntervalMs: 100, publishingIntervalMs: 500, queueSize: 100, discardOldest: true, dataChangeTrigger: 'StatusValue', heartbeatIntervalMs: 60_000, skipFirst: false, deadband: { type: 'Percent', value: 2 } },
    ]);
    expect(c.browse[0]).toMatchObject({ rootNodeId: 'nsu=urn:weir:plant-simulator:plant;s=Plant', maxDepth: 3, include: 'Temperature$', rebrowseIntervalMs: 0 });
    expect(c.events).toEqual([{ notifierId: 'i=2253', publishingIntervalMs: 1000, queueSize: 10_000 }]);
  });

  it('refuses a security policy that does not go with the mode, and bad node ids', () => {
    const issues = (input: object) => sourceSettingsSchema.safeParse({ id: 'x', endpointUrl: 'opc.tcp://h:1', ...input }).error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ securityMode: 'None' })).toEqual(['securityPolicy: security mode None cannot be used with policy Basic256Sha256']);
    expect(issues({ nodes: ['ns=2;s=A', { nodeId: 'Speed' }] })).toEqual([expect.stringMatching(/^nodes.1.nodeId: "Speed" is not a NodeId/)]);
  });
});
