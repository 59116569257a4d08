import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../services/config.ts';

describe('configuration', () => {
  it('gives every setting its documented default when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.HTTP_PORT, 8003);
    assert.equal(config.GRPC_PORT, 50053);
    assert.equal(config.TEMPORAL_TASK_QUEUE, 'inventory');
    assert.equal(config.EVENTS_EXCHANGE, 'inventory.events');
    assert.equal(config.SEED_DEMO_DATA, true);
  });

  it('rejects a bad value with a message naming the variable, its value and the problem', () => {
    assert.throws(
      () => loadConfig({ HTTP_PORT: 'eighty', DATABASE_URL: 'mysql://localhost/inventory', SEED_DEMO_DATA: 'maybe' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /HTTP_PORT="eighty"/);
        assert.match(error.message, /DATABASE_URL="mysql:\/\/localhost\/inventory"/);
        assert.match(error.message, /SEED_DEMO_DATA="maybe"/);
        return true;
      },
    );
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ GRPC_PORT: '' }).GRPC_PORT, 50053);
  });

  it('checks the catalog address and the reconciliation schedule', () => {
    assert.equal(loadConfig({}).CATALOG_GRPC_ADDRESS, undefined, 'no catalog: validation off');
    assert.equal(loadConfig({ CATALOG_GRPC_ADDRESS: 'catalog:50052' }).CATALOG_GRPC_ADDRESS, 'catalog:50052');
    assert.equal(loadConfig({}).RECONCILIATION_CRON, '0 3 * * *');
    assert.equal(loadConfig({ RECONCILIATION_CRON: 'off' }).RECONCILIATION_CRON, 'off');
    assert.throws(
      () => loadConfig({ CATALOG_GRPC_ADDRESS: 'http://catalog', RECONCILIATION_CRON: 'nightly' }),
      (error: unknown) => {
        assert.match(String((error as Error).message), /CATALOG_GRPC_ADDRESS="http:\/\/catalog"/);
        assert.match(String((error as Error).message), /RECONCILIATION_CRON="nightly"/);
        return true;
      },
    );
  });

  it("derives the owner's and the system role's URLs from DATABASE_URL, and refuses one user for two roles", () => {
    const config = loadConfig({ DATABASE_URL: 'postgresql://inventory_runtime:secret@db.internal:5432/inventory' });
    assert.equal(config.DATABASE_OWNER_URL, 'postgresql://inventory_owner@db.internal:5432/inventory');
    assert.equal(config.DATABASE_SYSTEM_URL, 'postgresql://inventory_system@db.internal:5432/inventory');
    assert.equal(new URL(loadConfig({}).DATABASE_URL).username, 'inventory_runtime');
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'postgresql://inventory_owner@127.0.0.1/inventory' }),
      (error: unknown) => {
        assert.match(
          String((error as Error).message),
          /DATABASE_OWNER_URL=.*the runtime role must be a role of its own/,
        );
        return true;
      },
    );
  });

  it('lists every variable it reads in .env.example', async () => {
    const { readFile } = await import('node:fs/promises');
    const example = await readFile(new URL('../../../.env.example', import.meta.url), 'utf8');
    const listed = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]));
    for (const name of Object.keys(loadConfig({}))) assert.ok(listed.has(name), `${name} is missing from .env.example`);
  });
});
