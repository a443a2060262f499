import { loadConfig, redact } from '@weir/config';
import { describe, expect, it } from 'vitest';
import { plantSimulatorSettingsSchema, simulatorOptionsFromSettings } from './config';

describe('plant simulator settings', () => {
  it('has production defaults: loopback, unknown certificates rejected, anonymous read-only', () => {
    const { config } = loadConfig(plantSimulatorSettingsSchema, { env: {} });
    const options = simulatorOptionsFromSettings(config);
    expect(options).toMatchObject({ port: 4840, host: '127.0.0.1', tickMs: 1000, seed: 'weir', plant: { sites: 1, linesPerArea: 2, machinesPerLine: 3, extraTagsPerMachine: 0 } });
    expect(options.security).toMatchObject({ autoAcceptUnknownCertificates: false, allowAnonymous: true, anonymousCanWrite: false, policies: ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep'], users: [] });
    expect(options.limits).toEqual({});
  });

  it('reads nested settings, users and limits from the environment, and redacts passwords', () => {
    const { config } = loadConfig(plantSimulatorSettingsSchema, {
      env: {
        WEIR_OPCUA__PORT: '4841',
        WEIR_PLANT__SITES: '2',
        WEIR_PLANT__EXTRA_TAGS_PER_MACHINE: '38',
        WEIR_MODEL__TICK: '500ms',
        WEIR_SECURITY__POLICIES: 'Basic256Sha256',
        WEIR_SECURITY__MODES: 'SignAndEncrypt',
        WEIR_SECURITY__CREDENTIALS__OPERATOR: 's3cret',
        WEIR_LIMITS__MAX_MONITORED_ITEMS_PER_CALL: '200',
      },
    });
    const options = simulatorOptionsFromSettings(config);
    expect(options).toMatchObject({ port: 4841, tickMs: 500, plant: { sites: 2, extraTagsPerMachine: 38 }, limits: { maxMonitoredItemsPerCall: 200 } });
    expect(options.security).toMatchObject({ policies: ['Basic256Sha256'], modes: ['SignAndEncrypt'], users: [{ username: 'operator', password: 's3cret' }] });
    expect(JSON.stringify(redact(config))).not.toContain('s3cret');
  });

  it('rejects an unknown security policy and a bad tick with the offending keys', () => {
    expect(() => loadConfig(plantSimulatorSettingsSchema, { env: { WEIR_SECURITY__POLICIES: 'Basic128Rsa15', WEIR_MODEL__TICK: 'soon' } })).toThrow(/security.policies.*\n.*model.tick|model.tick.*\n.*security.policies/s);
  });
});
