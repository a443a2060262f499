import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { AttributeIds } from 'node-opcua';
import { freePort, removeTempDirs, tempDir } from '@weir/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../src/index';
import { waitFor } from './helpers';

const root = resolve(__dirname, '../../..');

describe('the plant-simulator service', () => {
  it('starts from environment settings, serves OPC UA, /health and /metrics, and stops cleanly on SIGTERM', async () => {
    const [opcuaPort, opsPort] = [await freePort(), await freePort()];
    const stateDir = tempDir('service');
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/plant-simulator/src/main.ts'], {
      cwd: root,
      // NODE_OPTIONS cleared: a tsx parent would pass its signal-relaying preflight down to the child.
      env: { ...process.env, NODE_OPTIONS: '', WEIR_OPCUA__PORT: String(opcuaPort), WEIR_OPS_PORT: String(opsPort), WEIR_STATE_DIR: stateDir, WEIR_PLANT__MACHINES_PER_LINE: '2', WEIR_SECURITY__CREDENTIALS__OPERATOR: 'pw', WEIR_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<string>((r) => child.on('exit', (code, signal) => r(`${code ?? signal}`)));
    try {
      await waitFor(() => output.includes('health and metrics listening'), 60_000, `service start (output so far: ${output.slice(-500)})`);
      const ready = await fetch(`http://127.0.0.1:${opsPort}/health/ready`);
      expect(ready.status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
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
      expect(output).not.toContain('pw"');
    } finally {
      child.kill('SIGTERM');
    }
    const how = await exited;
    expect(how, output.slice(-2000)).toBe('0');
    expect(output).toContain('plant simulator stopped');
  });
});

afterAll(() => removeTempDirs());
