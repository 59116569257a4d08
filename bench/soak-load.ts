/**
 * The soak's load: a steady, open-loop mix of what the service's callers do, at fixed rates (arrivals do not
 * wait for answers, so a slow stack shows as latency and errors, not as a quietly lower rate).
 *
 *   orders        ReserveStock over gRPC (the order service's token, 1–2 lines, a customer id), then one of:
 *                 left to expire (TTL 20 s, 30 %); ConfirmReservation then an `order.shipped` event (20 %);
 *                 ReleaseReservation (15 %); an `order.cancelled` event (15 %); `order.confirmed` then
 *                 `order.shipped` events (20 %). One event in twenty is published twice, as a redelivery.
 *   transfers     over REST (an operator's token): create, ship a second later, receive two seconds after
 *                 that (one in ten with a damaged unit)
 *   adjustments   over REST: receipts, damage, finds and losses in turn
 *   availability  CheckAvailability over gRPC, three lines
 * Every call is timed and counted per operation; `takeWindow` hands over what happened since it was last called.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { loadInventoryProto } from '../services/grpc/proto.ts';
import type { InventoryServiceClient } from '../services/grpc/generated/inventory/v1/InventoryService.ts';
import { itemAt } from '../services/guaranteed.ts';
import { percentile } from './stats.ts';

export interface SoakOrganization {
  id: string;
  warehouses: [string, string];
  variants: string[];
  /** Bearer tokens: the order service's (gRPC) and an operator's (REST). */
  orderServiceToken: string;
  operatorToken: string;
}

/** Arrivals per second of each kind of work. */
export interface SoakRates {
  orders: number;
  transfers: number;
  adjustments: number;
  availabilityChecks: number;
}

export const defaultSoakRates: SoakRates = { orders: 1, transfers: 0.1, adjustments: 0.5, availabilityChecks: 1 };
/** The TTL of the holds left to expire: short, so that expiry runs all along the soak. */
export const expiringTtlSeconds = 20;
const openTtlSeconds = 900;
/** A call not answered by then counts as an error (DEADLINE_EXCEEDED, or a timeout over REST). */
const callDeadlineMs = 30_000;
/** Beyond this many unfinished orders and transfers new arrivals are dropped (and counted): the stack is stuck. */
const maxInFlight = 2000;

export interface OrderEventPublisher {
  /** Publishes one message to the order service's exchange and resolves once the broker confirmed it. */
  publish(routingKey: string, messageId: string, content: Buffer): Promise<void>;
}

export interface OperationWindow {
  ok: number;
  errors: number;
  /** Errors by gRPC status or HTTP status. */
  errorsBy: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
}

export interface PublishedOrderEvent {
  organizationId: string;
  eventId: string;
  event: string;
  orderId: string;
}

export function createSoakLoad(deps: {
  grpcAddress: string;
  httpUrl: string;
  events: OrderEventPublisher;
  organizations: SoakOrganization[];
  rates: SoakRates;
}) {
  const proto = loadInventoryProto();
  const client = new proto.inventory.v1.InventoryService(
    deps.grpcAddress,
    grpc.credentials.createInsecure(),
  ) as InventoryServiceClient;
  const bearer = new Map(
    deps.organizations.map((org) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${org.orderServiceToken}`);
      return [org.id, metadata];
    }),
  );
  const run = randomUUID().slice(0, 8);
  const window = new Map<string, { ok: number; errorsBy: Record<string, number>; latencies: number[] }>();
  const totals = new Map<string, { ok: number; errors: number }>();
  const errorSamples: string[] = [];
  const publishedEvents: PublishedOrderEvent[] = [];
  const inFlight = new Set<Promise<void>>();
  let eventCount = 0;

  function record(operation: string, latencyMs: number, error?: string): void {
    const open = window.get(operation) ?? { ok: 0, errorsBy: {}, latencies: [] };
    const total = totals.get(operation) ?? { ok: 0, errors: 0 };
    if (error === undefined) {
      open.ok += 1;
      open.latencies.push(latencyMs);
      total.ok += 1;
    } else {
      open.errorsBy[error] = (open.errorsBy[error] ?? 0) + 1;
      total.errors += 1;
    }
    window.set(operation, open);
    totals.set(operation, total);
  }

  /**
   * Times one call. An answer that says "try again" (UNAVAILABLE, DEADLINE_EXCEEDED, 503, a timeout) is
   * counted as an error and the same request is sent again a second later, as the service's callers are
   * told to (at most `attempts` times); any other error stops the caller's lifecycle there (undefined).
   */
  async function timed<T>(operation: string, call: () => Promise<T>, attempts = 4): Promise<T | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const started = performance.now();
      try {
        const value = await call();
        record(operation, performance.now() - started);
        return value;
      } catch (error) {
        const code = errorCode(error);
        record(operation, performance.now() - started, code);
        if (errorSamples.length < 20)
          errorSamples.push(`${operation}: ${code}: ${(error as Error).message.slice(0, 300)}`);
        if (attempt >= attempts || !tryAgain.has(code)) return undefined;
        await sleep(1000);
      }
    }
  }

  const rpc = <T>(method: keyof InventoryServiceClient & string, organizationId: string, request: object) =>
    new Promise<T>((resolve, reject) =>
      (
        client[method] as unknown as (
          r: object,
          m: grpc.Metadata,
          o: grpc.CallOptions,
          cb: (e: Error | null, v: T) => void,
        ) => void
      ).call(
        client,
        request,
        bearer.get(organizationId) ?? new grpc.Metadata(),
        { deadline: Date.now() + callDeadlineMs },
        (e, v) => (e ? reject(e) : resolve(v)),
      ),
    );

  /** A POST over REST under one Idempotency-Key, so that sending it again is safe. */
  function post<T>(org: SoakOrganization, path: string, body: object): () => Promise<T> {
    const key = randomUUID();
    return async () => {
      const response = await fetch(`${deps.httpUrl}/api/v1${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${org.operatorToken}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(callDeadlineMs),
      });
      const text = await response.text();
      if (!response.ok) throw new HttpStatusError(response.status, text.slice(0, 300));
      return JSON.parse(text) as T;
    };
  }

  async function publishOrderEvent(org: SoakOrganization, event: string, orderId: string): Promise<void> {
    const eventId = randomUUID();
    const content = Buffer.from(
      JSON.stringify({
        event,
        version: '1.0',
        timestamp: new Date().toISOString(),
        organization_id: org.id,
        event_id: eventId,
        data: { order_id: orderId, ...(event === 'order.cancelled' ? { reason: 'soak' } : {}) },
      }),
    );
    const sent = await timed(`event ${event}`, () => deps.events.publish(event, eventId, content).then(() => true), 1);
    if (sent === undefined) return;
    publishedEvents.push({ organizationId: org.id, eventId, event, orderId });
    // A redelivery, as at-least-once brokers and publishers produce: the consumer must apply it once.
    eventCount += 1;
    if (eventCount % 20 === 0) await timed(`event ${event}`, () => deps.events.publish(event, eventId, content), 1);
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const orgAt = (i: number) => itemAt(deps.organizations, i % deps.organizations.length, 'organizations');
  const randomOf = <T>(items: T[]) => itemAt(items, Math.floor(Math.random() * items.length), 'items');

  async function order(i: number): Promise<void> {
    const org = orgAt(i);
    const orderId = `soak-${run}-${i}`;
    const kind = i % 20;
    const first = randomOf(org.variants);
    const second = org.variants.find((v) => v !== first) ?? first;
    const lines = (i % 3 === 0 ? [first, second] : [first]).map((variant_id) => ({
      variant_id,
      quantity: 1 + (i % 3),
    }));
    const reserved = await timed('ReserveStock', () =>
      rpc<{ success: boolean }>('ReserveStock', org.id, {
        organization_id: org.id,
        order_id: orderId,
        lines,
        ttl_seconds: kind < 6 ? expiringTtlSeconds : openTtlSeconds,
        customer_id: `soak-customer-${i % 500}`,
      }),
    );
    if (!reserved?.success || kind < 6) return;
    await sleep(2000);
    const named = { organization_id: org.id, order_id: orderId };
    if (kind < 10) {
      if (await timed('ConfirmReservation', () => rpc('ConfirmReservation', org.id, named))) {
        await sleep(3000);
        await publishOrderEvent(org, 'order.shipped', orderId);
      }
    } else if (kind < 13) {
      await timed('ReleaseReservation', () => rpc('ReleaseReservation', org.id, { ...named, reason: 'soak' }));
    } else if (kind < 16) {
      await publishOrderEvent(org, 'order.cancelled', orderId);
    } else {
      await publishOrderEvent(org, 'order.confirmed', orderId);
      await sleep(3000);
      await publishOrderEvent(org, 'order.shipped', orderId);
    }
  }

  async function transfer(i: number): Promise<void> {
    const org = orgAt(i);
    const [origin, destination] = i % 2 === 0 ? org.warehouses : ([org.warehouses[1], org.warehouses[0]] as const);
    const variant_id = randomOf(org.variants);
    const quantity = 1 + (i % 5);
    const created = await timed(
      'transfer create',
      post<{ transfer_id: string }>(org, '/transfers', {
        origin_warehouse_id: origin,
        destination_warehouse_id: destination,
        lines: [{ variant_id, quantity }],
      }),
    );
    if (!created) return;
    await sleep(1000);
    if (!(await timed('transfer ship', post(org, `/transfers/${created.transfer_id}/ship`, {})))) return;
    await sleep(2000);
    const damaged = i % 10 === 0 ? 1 : 0;
    await timed(
      'transfer receive',
      post(org, `/transfers/${created.transfer_id}/receive`, {
        lines: [{ variant_id, received: quantity - damaged, damaged }],
      }),
    );
  }

  const adjustments = [
    { reason_code: 'receipt', quantity: 3 },
    { reason_code: 'damage', quantity: 1 },
    { reason_code: 'found', quantity: 1 },
    { reason_code: 'loss', quantity: 1 },
  ];
  async function adjustment(i: number): Promise<void> {
    const org = orgAt(i);
    await timed(
      'adjustment',
      post(org, '/adjustments', {
        variant_id: randomOf(org.variants),
        warehouse_id: randomOf(org.warehouses),
        ...itemAt(adjustments, i % adjustments.length, 'adjustments'),
        note: 'soak',
      }),
    );
  }

  async function availability(i: number): Promise<void> {
    const org = orgAt(i);
    const items = [0, 1, 2].map(() => ({ variant_id: randomOf(org.variants), quantity: 1 }));
    await timed('CheckAvailability', () => rpc('CheckAvailability', org.id, { organization_id: org.id, items }));
  }

  const streams = [
    { rate: deps.rates.orders, issued: 0, work: order },
    { rate: deps.rates.transfers, issued: 0, work: transfer },
    { rate: deps.rates.adjustments, issued: 0, work: adjustment },
    { rate: deps.rates.availabilityChecks, issued: 0, work: availability },
  ];
  let ticker: NodeJS.Timeout | undefined;
  let startedAt = 0;

  return {
    /** Starts the arrivals. */
    start(): void {
      startedAt = performance.now();
      ticker = setInterval(() => {
        const elapsed = (performance.now() - startedAt) / 1000;
        for (const stream of streams) {
          while (stream.issued < Math.floor(elapsed * stream.rate)) {
            const i = stream.issued++;
            if (inFlight.size >= maxInFlight) {
              record('dropped (too much in flight)', 0, 'dropped');
              continue;
            }
            const running: Promise<void> = stream.work(i).finally(() => inFlight.delete(running));
            inFlight.add(running);
          }
        }
      }, 50);
    },
    /** Stops the arrivals and waits for the work already started (orders, transfers) to finish. */
    async stop(): Promise<void> {
      clearInterval(ticker);
      await Promise.allSettled([...inFlight]);
      client.close();
    },
    /** Per operation: what happened since the last call. */
    takeWindow(): Record<string, OperationWindow> {
      const taken = Object.fromEntries(
        [...window.entries()].sort().map(([operation, w]) => {
          const sorted = w.latencies.sort((a, b) => a - b);
          const errors = Object.values(w.errorsBy).reduce((sum, n) => sum + n, 0);
          const p = (q: number) => (sorted.length ? Math.round(percentile(sorted, q)) : 0);
          return [operation, { ok: w.ok, errors, errorsBy: w.errorsBy, p50Ms: p(50), p99Ms: p(99) }];
        }),
      );
      window.clear();
      return taken;
    },
    totals: () => Object.fromEntries([...totals.entries()].sort()),
    errorSamples: () => [...errorSamples],
    /** Every order event published (once each, whether or not it was sent twice). */
    publishedEvents: () => [...publishedEvents],
  };
}

const tryAgain = new Set(['grpc UNAVAILABLE', 'grpc DEADLINE_EXCEEDED', 'http 503', 'timeout']);

function errorCode(error: unknown): string {
  if (error instanceof HttpStatusError) return `http ${error.status}`;
  if ((error as Error).name === 'TimeoutError') return 'timeout';
  const code = (error as grpc.ServiceError).code;
  return typeof code === 'number' ? `grpc ${grpc.status[code]}` : 'other';
}

class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number, body: string) {
    super(`HTTP ${status}: ${body}`);
    this.status = status;
  }
}
