// Stages one service for its runtime image: its package.json and dist/, and the
// package.json, dist/ and data folders (SQL migrations, detection rules: every
// folder but src/, test/, dist/) of exactly the libs it uses, found by walking the TypeScript project references from the service's
// tsconfig.app.json. Run inside the build stage: node stage-service.mjs <service> <out>
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const [service, out] = process.argv.slice(2);
if (!service || !out) {
  process.stderr.write('usage: node stage-service.mjs <service> <out-dir>\n');
  process.exit(2);
}
const root = process.cwd();
// Folders never shipped; any other folder of a package is data read at run time by path.
const NOT_DATA = new Set(['src', 'test', 'dist', 'node_modules']);

const projects = new Set();
const walk = (tsconfigPath) => {
  const dir = dirname(tsconfigPath);
  const rel = relative(root, dir);
  if (projects.has(rel)) return;
  projects.add(rel);
  const tsconfig = JSON.parse(readFileSync(tsconfigPath, 'utf8'));
  for (const ref of tsconfig.references ?? []) {
    const target = resolve(dir, ref.path);
    walk(target.endsWith('.json') ? target : join(target, 'tsconfig.json'));
  }
};
const entry = join(root, 'services', service, 'tsconfig.app.json');
if (!existsSync(join(root, 'services', service, 'src', 'main.ts'))) {
  process.stderr.write(`services/${service}/src/main.ts does not exist: nothing to package\n`);
  process.exit(1);
}
walk(entry);

const keep = (src) => !src.endsWith('.tsbuildinfo') && !src.endsWith('.d.ts') && !src.endsWith('.d.ts.map');
mkdirSync(out, { recursive: true });
cpSync(join(root, 'package.json'), join(out, 'package.json'));
for (const project of [...projects].sort()) {
  const dist = join(root, project, 'dist');
  if (!existsSync(dist)) {
    process.stderr.write(`${project}/dist is missing: was the service built?\n`);
    process.exit(1);
  }
  cpSync(join(root, project, 'package.json'), join(out, project, 'package.json'));
  cpSync(dist, join(out, project, 'dist'), { recursive: true, filter: keep });
  for (const entry of readdirSync(join(root, project), { withFileTypes: true })) {
    if (entry.isDirectory() && !NOT_DATA.has(entry.name)) cpSync(join(root, project, entry.name), join(out, project, entry.name), { recursive: true });
  }
  process.stdout.write(`staged ${project}\n`);
}
