import { Gauge, type Registry } from 'prom-client';
import type { CatalogClient } from '../catalog/catalog-client.ts';

/**
 * `inventory_catalog_breaker_state{state}`: 1 for the catalog client's circuit breaker's current state
 * (closed, open, half_open), 0 for the others; read from the client at scrape time.
 */
export function registerCatalogBreakerGauge(registry: Registry, catalog: Pick<CatalogClient, 'state'>): void {
  const states = ['closed', 'open', 'half_open'] as const;
  new Gauge({
    name: 'inventory_catalog_breaker_state',
    help: "The catalog client's circuit breaker: 1 for its current state, 0 for the others",
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const current = catalog.state().breaker;
      for (const state of states) this.set({ state }, state === current ? 1 : 0);
    },
  });
}
