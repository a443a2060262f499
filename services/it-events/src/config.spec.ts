import { ConfigError, loadConfig } from '@weir/config';
import { describe, expect, it } from 'vitest';
import { itEventsSettingsSchema } from './config';

describe('it-events settings', () => {
  it('fills the defaults: loopback listeners, TLS off, MFA unknown', () => {
    const { config } = loadConfig(itEventsSettingsSchema, { env: { WEIR_KAFKA__BROKERS: '127.0.0.1:9092' } });
    expect([config.syslog.host, config.syslog.tcp.port, config.syslog.udp.port, config.syslog.tls, config.http.port, config.sources.openvpn.mfa, config.sources.sshd.correlationWindow]).toEqual(['127.0.0.1', 5514, 5514, undefined, 8088, 'unknown', 120_000]);
  });

  it('names the key and the variable of a bad setting', () => {
    const load = () => loadConfig(itEventsSettingsSchema, { env: { WEIR_KAFKA__BROKERS: '127.0.0.1:9092', WEIR_SOURCES__OPENVPN__MFA: 'sometimes' } });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/sources\.openvpn\.mfa \(from env WEIR_SOURCES__OPENVPN__MFA\)/);
  });

  it('refuses requireClientCert without a client CA', () => {
    const load = () => loadConfig(itEventsSettingsSchema, { env: { WEIR_KAFKA__BROKERS: '127.0.0.1:9092', WEIR_SYSLOG__TLS__CERT_FILE: 'a.pem', WEIR_SYSLOG__TLS__KEY_FILE: 'a.key', WEIR_SYSLOG__TLS__REQUIRE_CLIENT_CERT: 'true' } });
    expect(load).toThrow(/syslog\.tls\.clientCaFile: requireClientCert needs clientCaFile/);
  });
});
