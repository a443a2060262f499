import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ServiceProcess, tempDir } from '@weir/testing';
import { SCENARIO_RULES, testGroupId } from './helpers';

/** Options of one enricher process. */
export interface EnricherProcessOptions {
  brokers: string[];
  prefix: string;
  /** `enricher.instanceId`; keep it across restarts of the same instance. */
  instanceId: string;
  /** `enricher.groupId`; default `testGroupId(prefix)`. */
  groupId?: string;
  /** Extra environment (wins over the defaults below). */
  env?: Record<string, string>;
}

/**
 * The enricher as its own process, started from src/main.ts like in production: the mapping rules
 * come from a YAML file (`WEIR_CONFIG_FILE`), everything else from the environment.
 */
export class EnricherProcess extends ServiceProcess {
  /** Starts a process; resolves once it is spawned (not once it is ready). */
  static async start(options: EnricherProcessOptions): Promise<EnricherProcess> {
    const configFile = join(tempDir('enricher'), 'enricher.yaml');
    writeFileSync(configFile, ['enricher:', '  mapping:', ...SCENARIO_RULES.map((r) => `    - ${JSON.stringify(r)}`)].join('\n') + '\n');
    const opsPort = await freePort();
    return new EnricherProcess({
      main: 'services/enricher/src/main.ts',
      opsPort,
      env: {
        WEIR_CONFIG_FILE: configFile,
        WEIR_KAFKA__BROKERS: options.brokers.join(','),
        WEIR_KAFKA__TOPIC_PREFIX: options.prefix,
        WEIR_KAFKA__CLIENT_ID: `enricher-${options.instanceId}`,
        WEIR_KAFKA__PARTITIONS: '3',
        WEIR_KAFKA__REPLICATION_FACTOR: '1',
        WEIR_OBSERVABILITY__OPS_PORT: String(opsPort),
        WEIR_OBSERVABILITY__LOG_LEVEL: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'info',
        WEIR_ENRICHER__INSTANCE_ID: options.instanceId,
        WEIR_ENRICHER__GROUP_ID: options.groupId ?? testGroupId(options.prefix),
        // The broker's minimum: a killed instance's partitions move on after 6 s, not 30.
        WEIR_ENRICHER__SESSION_TIMEOUT_MS: '6000',
        WEIR_ENRICHER__HEARTBEAT_INTERVAL_MS: '1000',
        ...options.env,
      },
    });
  }

  /** Waits until /health/ready answers 200 (context loaded, in the group); fails early if the process exits. */
  async ready(timeoutMs = 120_000): Promise<void> {
    await this.waitUntil('ready', timeoutMs);
  }

  /** Partitions of the input this instance holds, from its readiness report. */
  async assignedPartitions(): Promise<number> {
    const report = await this.health('ready');
    return Number(/^(\d+) partition/.exec(report.checks['telemetry']?.detail ?? '')?.[1] ?? 0);
  }
}
