import type { ChildProcess } from 'node:child_process';
import { waitFor } from '@weir/testing';
import { OPCUAClient } from 'node-opcua';

/**
 * Waits until the simulator started as `child` accepts OPC UA connections on
 * `endpointUrl` (up to 2 minutes); fails at once, with `output()`, if it exits.
 */
export async function waitForSimulator(child: ChildProcess, endpointUrl: string, output: () => string): Promise<void> {
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`the simulator exited: ${output()}`);
      const c = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 } });
      try {
        await c.connect(endpointUrl);
        return true;
      } catch {
        return undefined;
      } finally {
        await c.disconnect();
      }
    },
    { timeoutMs: 120_000, what: 'the simulator to listen' },
  );
}
