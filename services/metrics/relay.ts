import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { withTimeout } from './registry.ts';
import type { OpenHolds } from '../inventory/reservations/open-holds.store.ts';

/** What a scrape reads of the outbox (all organizations). */
export interface OutboxBacklog {
  pending: number;
  /** Seconds since the oldest unpublished event was written; 0 when none waits. */
  oldestAgeSeconds: number;
}

export interface RelayMetrics {
  registry: Registry;
  published: Counter;
  confirmSeconds: Histogram;
}

/**
 * The relay's series, registered in `registry` (served on RELAY_METRICS_PORT). The gauges are read from
 * PostgreSQL at scrape time through `backlog` and `holds` (at most 2 s; a scrape that cannot read them reports
 * NaN rather than a stale value), so every relay, publisher or standby, reports the same values. The relay
 * serves the open holds too because it is the part that holds the system role's cross-organization reads.
 */
export function createRelayMetrics(
  registry: Registry,
  backlog: () => Promise<OutboxBacklog>,
  holds: () => Promise<OpenHolds>,
): RelayMetrics {
  let read: Promise<OutboxBacklog | undefined> | undefined;
  // One query per scrape serves both gauges.
  const current = () => (read ??= withTimeout(backlog, 2000).finally(() => setTimeout(() => (read = undefined), 0)));
  let holdsRead: Promise<OpenHolds | undefined> | undefined;
  const currentHolds = () =>
    (holdsRead ??= withTimeout(holds, 2000).finally(() => setTimeout(() => (holdsRead = undefined), 0)));
  new Gauge({
    name: 'inventory_holds_open',
    help: 'Open reservations of every organization, by status (active: expires at its TTL; confirmed: paid)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const value = await currentHolds();
      this.set({ status: 'active' }, value ? value.active : NaN);
      this.set({ status: 'confirmed' }, value ? value.confirmed : NaN);
    },
  });
  new Gauge({
    name: 'inventory_holds_past_expiry',
    help: 'Active holds whose expires_at has passed and that are not released yet (every organization)',
    registers: [registry],
    async collect() {
      const value = await currentHolds();
      this.set(value ? value.pastExpiry : NaN);
    },
  });
  new Gauge({
    name: 'inventory_outbox_pending',
    help: 'Outbox events not yet published (all organizations)',
    registers: [registry],
    async collect() {
      const value = await current();
      this.set(value ? value.pending : NaN);
    },
  });
  new Gauge({
    name: 'inventory_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest unpublished outbox event (0 when none waits)',
    registers: [registry],
    async collect() {
      const value = await current();
      this.set(value ? value.oldestAgeSeconds : NaN);
    },
  });
  return {
    registry,
    published: new Counter({
      name: 'inventory_outbox_published_total',
      help: 'Outbox events published and confirmed by the broker by this relay',
      registers: [registry],
    }),
    confirmSeconds: new Histogram({
      name: 'inventory_outbox_publish_confirm_seconds',
      help: 'Time from publishing a batch to the broker confirming all of it',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
