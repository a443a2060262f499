import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CONFIG_REFERENCE_FILE, ROOT, buildConfigReference, renderConfigReference } from './config-reference';
import { TOPICS_FILE, updateTopicTable } from './topics-reference';

const USAGE = `usage: npx tsx tools/docs/generate-config-reference.ts [--check]
  (none)   write ${CONFIG_REFERENCE_FILE} from the settings schemas and the topic table
           of ${TOPICS_FILE} from the contracts catalogue
  --check  write nothing; exit 1 when either committed file differs from what would be generated`;

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Writes (or with `--check` compares) the generated documents; returns the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  const check = argv.includes('--check');
  if (argv.some((a) => a !== '--check')) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const refs = await buildConfigReference(ROOT);
  const undocumented = refs.flatMap((r) => r.undocumented.map((p) => `${r.name}: ${p}`));
  if (undocumented.length > 0) process.stderr.write(`settings without a description (${undocumented.length}):\n${undocumented.map((u) => `  ${u}`).join('\n')}\n`);

  const configPath = join(ROOT, CONFIG_REFERENCE_FILE);
  const topicsPath = join(ROOT, TOPICS_FILE);
  const topicsNow = readOrEmpty(topicsPath);
  const wanted = [
    { file: CONFIG_REFERENCE_FILE, path: configPath, now: readOrEmpty(configPath), text: renderConfigReference(refs) },
    { file: TOPICS_FILE, path: topicsPath, now: topicsNow, text: updateTopicTable(topicsNow) },
  ];
  if (check) {
    const stale = wanted.filter((w) => w.now !== w.text);
    for (const w of stale) process.stderr.write(`${w.file} is stale; run npx tsx tools/docs/generate-config-reference.ts\n`);
    if (stale.length === 0) process.stdout.write(`${wanted.map((w) => w.file).join(' and ')} are up to date\n`);
    return stale.length === 0 ? 0 : 1;
  }
  for (const w of wanted) {
    if (w.now === w.text) continue;
    mkdirSync(dirname(w.path), { recursive: true });
    writeFileSync(w.path, w.text);
    process.stdout.write(`wrote ${w.file}\n`);
  }
  process.stdout.write(`${refs.length} programs, ${refs.reduce((n, r) => n + r.rows.length, 0)} settings\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
