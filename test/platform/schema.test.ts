import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateProtoTypes } from '../../scripts/proto-gen.ts';
import { testStack } from '../helpers/stack.ts';

describe('committed artefacts', () => {
  it('the migrations build exactly the schema the entities describe', async () => {
    // Read by the observer: the runtime role's catalog views hide what it does not own (check constraints).
    const sql = await testStack().observerOrm.schema.getUpdateSchemaSQL({ wrap: false });
    assert.equal(
      sql.trim(),
      '',
      `the entities differ from the migrated database: write a migration (npm run migration:create -- <name>):\n${sql}`,
    );
  });

  it('the generated gRPC types match the .proto files', () => {
    const committed = fileURLToPath(new URL('../../services/grpc/generated', import.meta.url));
    const fresh = mkdtempSync(path.join(tmpdir(), 'proto-gen-'));
    try {
      generateProtoTypes(fresh);
      const files = (dir: string): string[] =>
        readdirSync(dir, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
          .sort();
      assert.deepEqual(files(fresh), files(committed), 'run `npm run proto:gen` and commit the result');
      for (const file of files(fresh)) {
        assert.equal(
          readFileSync(path.join(fresh, file), 'utf8'),
          readFileSync(path.join(committed, file), 'utf8'),
          `${file} is stale: run \`npm run proto:gen\``,
        );
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
