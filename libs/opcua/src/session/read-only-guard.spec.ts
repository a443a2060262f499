import {
  AddNodesRequest,
  AddReferencesRequest,
  BrowseRequest,
  CallRequest,
  CreateMonitoredItemsRequest,
  DeleteNodesRequest,
  DeleteReferencesRequest,
  HistoryReadRequest,
  HistoryUpdateRequest,
  PublishRequest,
  ReadRequest,
  RegisterServerRequest,
  WriteRequest,
  type ClientSession,
} from 'node-opcua';
import { describe, expect, it } from 'vitest';
import { isOpcuaError } from '../opcua-error';
import { assertReadOnlyRequest, guardClient, readOnlySession } from './read-only-guard';

describe('assertReadOnlyRequest', () => {
  it.each([new ReadRequest({}), new BrowseRequest({}), new HistoryReadRequest({}), new CreateMonitoredItemsRequest({}), new PublishRequest({})])('lets %s through', (request) => {
    expect(() => assertReadOnlyRequest(request)).not.toThrow();
  });

  it.each([new WriteRequest({}), new CallRequest({}), new HistoryUpdateRequest({}), new AddNodesRequest({}), new AddReferencesRequest({}), new DeleteNodesRequest({}), new DeleteReferencesRequest({}), new RegisterServerRequest({})])(
    'refuses %s with OPCUA.WRITE_REFUSED',
    (request) => {
      let thrown: unknown;
      try {
        assertReadOnlyRequest(request);
      } catch (err) {
        thrown = err;
      }
      expect(isOpcuaError(thrown, 'OPCUA.WRITE_REFUSED')).toBe(true);
      expect((thrown as Error).message).toContain(request.schema.name);
    },
  );

  it('refuses what it does not know', () => {
    expect(() => assertReadOnlyRequest({ schema: { name: 'SomeFutureRequest' } })).toThrow(/OPCUA.WRITE_REFUSED: SomeFutureRequest refused/);
  });
});

describe('guards', () => {
  it('the session facade throws on write-like methods by name and never reaches the session', () => {
    const calls: string[] = [];
    const fake = {
      write: () => calls.push('write'),
      call: () => calls.push('call'),
      read: () => {
        calls.push('read');
        return 'value';
      },
      performMessageTransaction: (req: unknown) => calls.push(`pmt:${(req as { schema: { name: string } }).schema.name}`),
    } as unknown as ClientSession;
    const s = readOnlySession(fake) as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(() => s['write']!({})).toThrow(/OPCUA.WRITE_REFUSED: session.write\(\) refused/);
    expect(() => s['call']!({})).toThrow(/OPCUA.WRITE_REFUSED/);
    expect(() => s['performMessageTransaction']!(new WriteRequest({}))).toThrow(/OPCUA.WRITE_REFUSED: WriteRequest refused/);
    expect(s['read']!()).toBe('value');
    s['performMessageTransaction']!(new ReadRequest({}));
    expect(() => {
      (s as Record<string, unknown>)['write'] = () => 'sneaky';
    }).toThrow(/OPCUA.WRITE_REFUSED/);
    expect(calls).toEqual(['read', 'pmt:ReadRequest']);
  });

  it('the client guard answers refused requests through the callback, also on a secure channel set later', () => {
    const sent: string[] = [];
    const channel = { performMessageTransaction: (req: { schema: { name: string } }, cb: (e: Error | null) => void) => (sent.push(req.schema.name), cb(null)) };
    const client = { _secureChannel: null as unknown, performMessageTransaction: (req: { schema: { name: string } }, cb: (e: Error | null) => void) => (sent.push(`client:${req.schema.name}`), cb(null)) };
    guardClient(client as never);
    client._secureChannel = channel;
    const errors: Array<Error | null> = [];
    client.performMessageTransaction(new WriteRequest({}), (e) => errors.push(e));
    channel.performMessageTransaction(new CallRequest({}), (e) => errors.push(e));
    channel.performMessageTransaction(new ReadRequest({}), (e) => errors.push(e));
    expect(errors.map((e) => (e ? e.message.split(':').slice(0, 2).join(':') : null))).toEqual(['OPCUA.WRITE_REFUSED: WriteRequest refused', 'OPCUA.WRITE_REFUSED: CallRequest refused', null]);
    expect(sent).toEqual(['ReadRequest']);
  });
});
