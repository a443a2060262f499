import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, runScript, SERVICES } from './services';

// deploy/compose.yaml validated by Docker Compose itself (`config`), which
// needs no engine; scripts/ensure-compose.sh installs Debian's docker-compose
// when neither `docker compose` nor `docker-compose` exists.

const FILE = join(ROOT, 'deploy/compose.yaml');
const composeCommand = runScript('scripts/ensure-compose.sh', [], 10 * 60_000);

function compose(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...pre] = (composeCommand ?? 'docker-compose').split(' ');
  const r = spawnSync(cmd ?? 'docker-compose', [...pre, '-p', 'weir', '-f', FILE, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('docker compose file deploy/compose.yaml', () => {
  it('has a Docker Compose command to validate it with', () => {
    expect(composeCommand).toMatch(/^(docker compose|docker-compose)$/);
  });

  it('is valid for Docker Compose (config -q)', () => {
    const r = compose(['config', '-q']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('resolves to every service with its image, build and settings, the defaults and overrides applied', () => {
    const r = compose(['config'], { WEIR_NODE_IMAGE: 'weir/node:20', WEIR_TAG: 'ci', WEIR_DB_PASSWORD: 'from-env' });
    expect(r.status, r.stderr).toBe(0);
    const resolved = parse(r.stdout) as { services: Record<string, { image: string; build?: { args?: Record<string, string>; dockerfile: string }; environment?: Record<string, string>; healthcheck?: { test: string[] } }> };
    for (const s of SERVICES) {
      const c = resolved.services[s.name];
      expect(c?.image, s.name).toBe(`weir/${s.name}:ci`);
      expect(c?.build?.args?.['NODE_IMAGE'], s.name).toBe('weir/node:20');
      expect(c?.build?.dockerfile, s.name).toBe(`services/${s.name}/Dockerfile`);
      expect(c?.healthcheck?.test.join(' '), s.name).toContain('/health/ready');
      if (s.database) expect(c?.environment?.['WEIR_DATABASE__URL'], s.name).toBe('postgres://weir:from-env@timescaledb:5432/weir');
    }
    expect(resolved.services['timescaledb']?.environment?.['POSTGRES_PASSWORD']).toBe('from-env');
    expect(resolved.services['migrate']?.image).toBe('weir/timescale-sink:ci');
  });

  it('is refused when broken (the validation can fail)', () => {
    const r = compose(['-f', join(ROOT, 'tools/deploy-tests/fixtures/compose-broken.yaml'), 'config', '-q']);
    expect(r.status).not.toBe(0);
  });
});
