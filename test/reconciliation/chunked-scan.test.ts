import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { applyOperation } from '../../services/inventory/stock/ledger.ts';
import {
  scanChunkForDrift,
  scanForDrift,
  type ScannedChunk,
  type StockKey,
} from '../../services/inventory/reconciliation/reconciliation.ts';
import { createWarehouse, receiveStock } from '../helpers/fixtures.ts';
import { newOrganization, type TestOrganizationScope } from '../helpers/stack.ts';

/** Every chunk of the organization's first pass, from the first row to the end. */
async function allChunks(scope: TestOrganizationScope, limit: number, maxCandidates: number): Promise<ScannedChunk[]> {
  const chunks: ScannedChunk[] = [];
  let after: StockKey | null = null;
  do {
    const chunk: ScannedChunk = await scanChunkForDrift(scope, after, limit, maxCandidates);
    chunks.push(chunk);
    after = chunk.last;
  } while (after);
  return chunks;
}

/** The 500-row pages of the scan that workflows started before chunks still run: the reference for what differs. */
async function pagedCandidates(scope: TestOrganizationScope): Promise<string[]> {
  const candidates: string[] = [];
  let after: string | null = null;
  do {
    const page = await scanForDrift(scope, after, 500);
    candidates.push(...page.candidates);
    after = page.last;
  } while (after);
  return candidates;
}

describe('reconciliation: the chunked first pass', () => {
  it('visits every stock row once and finds exactly the rows the paged scan finds, from the ledger and from the holds', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variants = Array.from({ length: 9 }, () => randomUUID());
    for (const variant of variants) await receiveStock(scope, variant, warehouse.id, 5);
    const idOf = async (variant: string) => {
      const [row] = await scope.em.execute<{ id: string }[]>(
        'select id from stock where organization_id = ? and variant_id = ?',
        [scope.organizationId, variant],
      );
      assert.ok(row, `a stock row for variant ${variant}`);
      return row.id;
    };
    const [a, b, c, held] = variants.slice(0, 4) as [string, string, string, string];
    // Drift from the ledger, as a hand-written UPDATE leaves it, in three quantities.
    const drift = (variant: string, column: 'available' | 'damaged' | 'incoming') =>
      scope.em.execute(
        `update stock set ${column} = ${column} + 1${column === 'incoming' ? '' : ', total = total + 1'}
         where organization_id = ? and variant_id = ?`,
        [scope.organizationId, variant],
      );
    await drift(a, 'available');
    await drift(b, 'damaged');
    await drift(c, 'incoming');
    // Units the ledger reserved with no reservation holding them: the row agrees with its ledger, not its holds.
    await scope.transaction((tx) =>
      applyOperation(tx, {
        operationKey: `test-reserve-${randomUUID()}`,
        actor: 'test',
        changes: [
          { variantId: held, warehouseId: warehouse.id, type: 'reserve', deltas: { available: -2, reserved: 2 } },
        ],
      }),
    );
    const drifted = (await Promise.all([a, b, c, held].map(idOf))).sort();

    const whole = await allChunks(scope, 50_000, 5000);
    assert.equal(whole.length, 1, 'an organization smaller than a chunk is one statement');
    assert.equal(whole[0]?.checked, variants.length);
    assert.deepEqual([...(whole[0]?.candidates ?? [])].sort(), drifted);
    assert.deepEqual((await pagedCandidates(scope)).sort(), drifted, 'the same rows as the paged scan');

    const small = await allChunks(scope, 2, 5000);
    assert.equal(small.length, Math.ceil(variants.length / 2), 'chunks of 2 rows, with no empty chunk at the end');
    assert.equal(
      small.reduce((sum, chunk) => sum + chunk.checked, 0),
      variants.length,
      'every row checked once',
    );
    assert.deepEqual(small.flatMap((chunk) => chunk.candidates).sort(), drifted);
  });

  it('answers no more candidates per chunk than allowed when drift is everywhere, and still finds them all', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variants = Array.from({ length: 6 }, () => randomUUID());
    for (const variant of variants) await receiveStock(scope, variant, warehouse.id, 3);
    await scope.em.execute('update stock set available = available + 1, total = total + 1 where organization_id = ?', [
      scope.organizationId,
    ]);

    const chunks = await allChunks(scope, 50_000, 2);
    assert.ok(
      chunks.every((chunk) => chunk.candidates.length <= 2),
      JSON.stringify(chunks.map((c) => c.candidates.length)),
    );
    assert.equal(
      chunks.reduce((sum, chunk) => sum + chunk.checked, 0),
      variants.length,
    );
    assert.equal(new Set(chunks.flatMap((chunk) => chunk.candidates)).size, variants.length);
  });
});
