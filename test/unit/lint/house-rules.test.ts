import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The lint rules this house relies on, proved on small files laid out like the repository: biome.json and its
// plugin are copied as they are, so a change to either that lets a mistake through fails here.
const root = path.resolve(import.meta.dirname, '../../..');

/** The Biome CLI installed from package.json (or the one BIOME_CLI names), undefined when there is none. */
function biomeCli(): string | undefined {
  if (process.env.BIOME_CLI) return process.env.BIOME_CLI;
  try {
    return createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
  } catch {
    return undefined;
  }
}

const workflowImports = [
  "import { readFileSync } from 'node:fs';",
  "import path from 'path';",
  "import type { Activities } from '../activities/index.ts';",
  "import { createActivities } from '../activities/index.ts';",
  "import { type ScannedPage, scan } from '../services/inventory/reconciliation/reconciliation.ts';",
  "import type { RetentionTarget } from '../services/limits/retention.store.ts';",
  "import { something } from '../services/inventory/vocabulary.ts';",
  "import * as all from '../services/config.ts';",
  "import '../services/logger.ts';",
  "export { createLogger } from '../services/logger.ts';",
  "export type { Logger } from '../services/logger.ts';",
  "export * from '../services/config.ts';",
  'export const values = [readFileSync, path, createActivities, scan, something, all];',
  'export type Types = [Activities, ScannedPage, RetentionTarget];',
  '',
].join('\n');

const files: Record<string, string> = {
  'workflows/imports.ts': workflowImports,
  // The same imports are fine outside workflows/.
  'services/imports.ts': workflowImports,
  'services/cycle-a.ts': "import { b } from './cycle-b.ts';\nexport const a = (): unknown => b;\n",
  'services/cycle-b.ts': "import { a } from './cycle-a.ts';\nexport const b = (): unknown => a;\n",
  'services/floating.ts': [
    'async function work(): Promise<number> {',
    '  return 1;',
    '}',
    'export async function run(): Promise<void> {',
    '  work();',
    '  void work();',
    '  await work();',
    '}',
    '',
  ].join('\n'),
};

interface Diagnostic {
  category: string;
  location: { path: string; start: { line: number } };
}

describe('the lint rules of the house (biome.json)', function () {
  this.timeout(30_000);
  let dir: string;
  let diagnostics: Diagnostic[];

  before(function () {
    const cli = biomeCli();
    // npm ci installs it (a devDependency); npm test lints with it before this runs.
    if (!cli) this.skip();
    dir = mkdtempSync(path.join(tmpdir(), 'house-rules-'));
    cpSync(path.join(root, 'biome.json'), path.join(dir, 'biome.json'));
    cpSync(path.join(root, 'scripts/lint'), path.join(dir, 'scripts/lint'), { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    const run = spawnSync(
      process.execPath,
      [cli, 'lint', '--vcs-enabled=false', '--reporter=json', '--max-diagnostics=none', 'workflows', 'services'],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.ok(run.stdout, `biome printed no report: ${run.stderr}`);
    diagnostics = (JSON.parse(run.stdout) as { diagnostics: Diagnostic[] }).diagnostics;
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const lines = (file: string, category: string) =>
    diagnostics
      .filter((d) => d.location.path === file && d.category === category)
      .map((d) => d.location.start.line)
      .sort((a, b) => a - b);

  it('in workflows/, refuses Node built-ins and value imports (not import type) of services/, activities/', () => {
    assert.deepEqual(lines('workflows/imports.ts', 'lint/correctness/noNodejsModules'), [1, 2]);
    // Lines 3 and 6 import types only, line 7 is vocabulary.ts, line 11 re-exports a type.
    assert.deepEqual(lines('workflows/imports.ts', 'plugin'), [4, 5, 8, 9, 10, 12]);
  });

  it('outside workflows/, allows the same imports', () => {
    assert.deepEqual(lines('services/imports.ts', 'lint/correctness/noNodejsModules'), []);
    assert.deepEqual(lines('services/imports.ts', 'plugin'), []);
  });

  it('refuses an import cycle and a floating promise', () => {
    assert.deepEqual(lines('services/cycle-a.ts', 'lint/suspicious/noImportCycles'), [1]);
    assert.deepEqual(lines('services/cycle-b.ts', 'lint/suspicious/noImportCycles'), [1]);
    assert.deepEqual(lines('services/floating.ts', 'lint/nursery/noFloatingPromises'), [5]);
  });
});
