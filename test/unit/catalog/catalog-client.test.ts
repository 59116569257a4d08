import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createCatalogClient, type CatalogClient } from '../../../services/catalog/catalog-client.ts';
import { createLogger } from '../../../services/logger.ts';
import { startFakeCatalog, type FakeCatalog } from '../../helpers/fake-catalog.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';

const active = { exists: true, is_active: true, tracks_inventory: true, sku: 'TSHIRT-M', product_name: 'T-shirt' };

describe('the catalog client (ValidateVariant against a fake catalog gRPC server)', function () {
  this.timeout(20_000);
  let catalog: FakeCatalog;
  let client: CatalogClient;
  const logger = createLogger({ LOG_LEVEL: 'error', LOG_FORMAT: 'json' }, 'test');

  // A first gRPC call in a fresh process (loading grpc-js, resolving, connecting) can outlast the tests' 150 ms
  // deadline, and its retry would count as a second call: warm the process up once, with a generous deadline.
  before(async () => {
    const warm = await startFakeCatalog();
    const warmClient = createCatalogClient({
      address: warm.address,
      logger,
      deadlineMs: 5000,
      cacheTtlMs: 0,
      breaker: { consecutiveFailures: 4, halfOpenAfterMs: 1000 },
      retry: { maxAttempts: 1 },
    });
    await warmClient.validateVariant(randomUUID(), randomUUID());
    warmClient.close();
    await warm.stop();
  });

  beforeEach(async () => {
    catalog = await startFakeCatalog();
    client = createCatalogClient({
      address: catalog.address,
      logger,
      deadlineMs: 150,
      cacheTtlMs: 300,
      breaker: { consecutiveFailures: 4, halfOpenAfterMs: 1000 },
      retry: { maxAttempts: 3 },
    });
  });

  afterEach(async () => {
    client.close();
    await catalog.stop();
  });

  it('asks the catalog once and answers from the cache until the TTL', async () => {
    const org = randomUUID();
    const known = randomUUID();
    catalog.variants.set(known, active);
    assert.deepEqual(await client.validateVariant(org, known), {
      exists: true,
      isActive: true,
      tracksInventory: true,
      sku: 'TSHIRT-M',
      productName: 'T-shirt',
      source: 'catalog',
    });
    assert.equal((await client.validateVariant(org, known)).source, 'cache');
    assert.equal(catalog.calls, 1);
    assert.equal((await client.validateVariant(org, randomUUID())).exists, false, 'an id the catalog does not know');
    // Polling is harmless here: until the TTL passes each call is answered from the cache without a call out.
    await waitFor(
      () => client.validateVariant(org, known),
      (answer) => answer.source === 'catalog',
      'asked again after the TTL',
      5000,
    );
    assert.equal(catalog.calls, 3);
    assert.deepEqual(client.state(), { status: 'up', breaker: 'closed' });
  });

  it('slow, then down, then back: retries past the deadline, opens the breaker, degrades gracefully, and closes again', async () => {
    const org = randomUUID();
    const cached = randomUUID();
    catalog.variants.set(cached, active);
    await client.validateVariant(org, cached);
    const before = catalog.calls;

    // Slow: each attempt passes its 150 ms deadline; three attempts (DEADLINE_EXCEEDED is retried), then degraded.
    catalog.delayMs = 500;
    // Deliberately let the 300 ms TTL pass: asking for the cached variant to see it expire would itself call the
    // slow catalog and upset the counts below.
    await sleep(350);
    const slow = await client.validateVariant(org, randomUUID());
    assert.deepEqual(
      slow,
      { exists: true, isActive: true, tracksInventory: true, source: 'degraded' },
      'a variant never asked is let through',
    );
    assert.equal(catalog.calls - before, 3, 'one call and two retries');
    assert.equal(client.state().breaker, 'closed', 'three failed attempts, the breaker opens at four');

    // Down: the fourth failed attempt opens the breaker; the cached answer is served past its TTL.
    await catalog.stop();
    catalog.delayMs = 0;
    const stale = await client.validateVariant(org, cached);
    assert.equal(stale.source, 'stale');
    assert.equal(stale.sku, 'TSHIRT-M');
    const down = client.state();
    assert.equal(down.status, 'down');
    assert.equal(down.breaker, 'open');
    assert.match(down.detail ?? '', /let through unchecked/);
    assert.ok(down.last_failure, 'the last failure is shown');

    // Back, but the breaker is still open: nothing reaches the catalog until it tries again.
    await catalog.start();
    const callsWhileOpen = catalog.calls;
    assert.equal((await client.validateVariant(org, randomUUID())).source, 'degraded');
    assert.equal(catalog.calls, callsWhileOpen, 'an open breaker fails fast without calling');

    // After halfOpenAfter a trial call goes through, succeeds, and closes the breaker.
    const fresh = randomUUID();
    catalog.variants.set(fresh, active);
    const answer = await waitFor(
      () => client.validateVariant(org, fresh),
      (a) => a.source === 'catalog',
      'the catalog to answer again',
    );
    assert.equal(answer.exists, true);
    assert.deepEqual(client.state().breaker, 'closed');
    assert.equal(client.state().status, 'up');
  });
});
