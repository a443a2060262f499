// Writes services/<name>/Dockerfile for every service of deploy/services.json from
// Dockerfile.template (next to this file). With --check it writes nothing and
// exits 1 when a Dockerfile differs from what the template makes.
//   node deploy/images/service/sync-dockerfiles.mjs [--check]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const template = readFileSync(join(here, 'Dockerfile.template'), 'utf8');
const { services } = JSON.parse(readFileSync(join(root, 'deploy/services.json'), 'utf8'));
const check = process.argv.includes('--check');

/** The Dockerfile text of one service entry. */
export function render(service) {
  const opsPrefix = service.ops === 'observability' ? 'WEIR_OBSERVABILITY__' : 'WEIR_';
  // In a container the ops server must be reachable from outside (probes, Prometheus).
  const env = { [`${opsPrefix}OPS_HOST`]: '0.0.0.0', ...service.env };
  const envText = Object.entries(env).map(([k, v]) => ` \\\n    ${k}=${v}`).join('');
  const expose = service.ports.map((p) => ` ${p.port}/${p.protocol.toLowerCase()}`).join('');
  return template.replaceAll('@SERVICE@', service.name).replace('@ENV@', envText).replace('@EXPOSE@', expose);
}

let stale = 0;
for (const service of services) {
  const file = join(root, 'services', service.name, 'Dockerfile');
  const want = render(service);
  const have = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (have === want) continue;
  stale++;
  if (check) process.stderr.write(`services/${service.name}/Dockerfile is not what the template makes\n`);
  else {
    writeFileSync(file, want);
    process.stdout.write(`wrote services/${service.name}/Dockerfile\n`);
  }
}
if (check && stale > 0) process.exit(1);
