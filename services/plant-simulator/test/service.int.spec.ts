import { join } from 'node:path';
import { AttributeIds } from 'node-opcua';
import { type Exit, freePort, removeTempDirs, ServiceProcess, tempDir } from '@weir/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../src/index';

describe('the plant-simulator service', () => {
  it('starts from environment settings, serves OPC UA, /health and /metrics, and stops cleanly on SIGTERM', async () => {
    const [opcuaPort, opsPort] = [await freePort(), await freePort()];
    const stateDir = tempDir('service');
    const child = new ServiceProcess({
      main: 'services/plant-simulator/src/main.ts',
      opsPort,
      env: { WEIR_OPCUA__PORT: String(opcuaPort), WEIR_OPS_PORT: String(opsPort), WEIR_STATE_DIR: stateDir, WEIR_PLANT__MACHINES_PER_LINE: '2', WEIR_SECURITY__CREDENTIALS__OPERATOR: 'pw', WEIR_LOG_LEVEL: 'info' },
    });
    let exit: Promise<Exit> | undefined;
    try {
      await child.waitUntil('live', 60_000);
      expect((await child.get('/health/ready')).status).toBe(200);
      const metrics = (await child.get('/metrics')).body;
      expect(metrics).toMatch(/^weir_plant_simulator_tags\{service="plant-simulator"\} 48$/m);
      expect(metrics).toContain('weir_process_cpu_seconds_total');

      const conn = await connectClient({ endpointUrl: `opc.tcp://127.0.0.1:${opcuaPort}`, identity: { applicationUri: 'urn:weir:test:service', applicationName: 'service-test', pkiDir: join(stateDir, 'client') }, user: { username: 'operator', password: 'pw' } });
      try {
        const ns = ((await conn.session.readNamespaceArray()) as string[]).indexOf('urn:weir:plant-simulator:plant');
        const dv = await conn.session.read({ nodeId: `ns=${ns};s=Site01.Area01.Line02.Machine02.Mode`, attributeId: AttributeIds.Value });
        expect(dv.value.value).toBe('Run');
      } finally {
        await conn.close();
      }
      expect(child.output).not.toContain('pw"');
    } finally {
      exit = child.stop('SIGTERM');
    }
    expect(await exit, child.output.slice(-2000)).toEqual({ code: 0, signal: null });
    expect(child.output).toContain('plant simulator stopped');
  });
});

afterAll(() => removeTempDirs());
