import assert from 'node:assert/strict';
import { demo, seedDemoData } from '../../scripts/demo-data.ts';
import { ledgerSums, stockRow } from '../helpers/fixtures.ts';
import { testStack, organizationScope } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';

describe('the demo data', () => {
  it('seeds three warehouses in two regions and 20 variants, some below their minimum, and only once', async () => {
    const em = testStack().orm.em.fork();
    await seedDemoData(em);
    const again = await seedDemoData(em.fork());

    assert.equal(again.created, false);
    const scope = organizationScope(demo.organizationId);
    const [{ warehouses, regions } = { warehouses: 0, regions: 0 }] = await scope.em.execute<
      { warehouses: number; regions: number }[]
    >(
      'select count(*)::int as warehouses, count(distinct region)::int as regions from warehouse where organization_id = ?',
      [demo.organizationId],
    );
    assert.deepEqual({ warehouses, regions }, { warehouses: 3, regions: 2 });
    const [{ variants, low } = { variants: 0, low: 0 }] = await scope.em.execute<{ variants: number; low: number }[]>(
      'select count(distinct variant_id)::int as variants, count(*) filter (where available <= min_stock)::int as low from stock where organization_id = ?',
      [demo.organizationId],
    );
    assert.equal(variants, 20);
    assert.ok(low >= 3, `expected several low rows, got ${low}`);
    const redSmall = present(demo.variants[0], 'a demo variant');
    assert.equal((await stockRow(scope, redSmall.id, demo.warehouses.main.id))?.available, 120);
    assert.equal(
      (await ledgerSums(scope, redSmall.id, demo.warehouses.main.id))?.available,
      120,
      'seeded through the ledger, once',
    );
  });
});
