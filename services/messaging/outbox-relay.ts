import amqp, { type ConfirmChannel } from 'amqplib';
import type { Span } from '@opentelemetry/api';
import pg from 'pg';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import { toWireMessage } from './envelope.ts';
import { markPublished, nextBatch } from './outbox.store.ts';
import { declareTopology } from './topology.ts';
import type { RelayMetrics } from '../metrics/relay.ts';
import { finishedWithin } from '../readiness.ts';
import { firstRow } from '../guaranteed.ts';
import { endPublishSpans, startPublishSpan } from '../tracing/messages.ts';

/**
 * The outbox relay: publishes `outbox_event` rows to RabbitMQ in sequence order and marks them
 * published only after the broker confirmed them. Delivery is at least once (a crash between the
 * confirm and the mark republishes the batch); consumers deduplicate by message id (= event_id).
 * Nothing is dropped: while the broker is unreachable events simply wait in the outbox.
 *
 * One relay publishes at a time: the holder of a PostgreSQL advisory lock. Others stand by and take
 * over when the holder's database session ends. That keeps one publisher's order for every aggregate.
 */
export interface OutboxRelayDeps {
  /** The system role's pool (DATABASE_SYSTEM_URL): the outbox of every organization, past row-level security. */
  orm: Orm;
  /** The system role's URL, for the leader's own session (the advisory lock lives as long as it). */
  databaseUrl: string;
  amqpUrl: string;
  exchange: string;
  logger: Logger;
  batchSize: number;
  pollIntervalMs: number;
  /**
   * How long a batch waits for the broker's confirms. A broker that takes the messages and never confirms
   * them (a quorum queue left without a leader, a link that stalls without closing) would otherwise hold
   * the relay for good; past this the batch is published again on a new channel (at least once).
   */
  confirmTimeoutMs: number;
  /** Counts published events and times the broker's confirms (README, Metrics); none = not recorded. */
  metrics?: Pick<RelayMetrics, 'published' | 'confirmSeconds'>;
}

export interface RelayStatus {
  connected: boolean;
  leader: boolean;
  published: number;
  lastError?: string;
}

export interface OutboxRelay {
  start(): Promise<void>;
  /**
   * Stops publishing. With `graceMs`, a batch already sent gets that long for the broker's confirms and its
   * mark as published (a drain); then, or at once without it, the connection is closed and a batch still
   * unconfirmed stays unmarked, to be published again by the next relay (at least once).
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  status(): RelayStatus;
}

/** Arbitrary but fixed: the advisory lock key of the relay role ("inv-outb" in ASCII). */
const leaderLockKey = '7596475591271629410';

export function createOutboxRelay(deps: OutboxRelayDeps): OutboxRelay {
  const { logger } = deps;
  const em = deps.orm.em.fork();
  const state: RelayStatus = { connected: false, leader: false, published: 0 };
  let running = false;
  let loop: Promise<void> | undefined;
  let connection: Awaited<ReturnType<typeof connectToBroker>> | undefined;
  let channel: ConfirmChannel | undefined;
  let lockClient: pg.Client | undefined;
  let wake: (() => void) | undefined;

  function connectToBroker() {
    return amqp.connect(deps.amqpUrl, {
      recovery: {
        initialDelay: 200,
        maxDelay: 10_000,
        factor: 2,
        jitter: 0.3,
        maxRetries: Infinity,
        waitForConnect: false,
      },
    });
  }

  async function openBroker(): Promise<void> {
    connection = await connectToBroker();
    let outage = false;
    connection.on('connect', () => {
      state.connected = true;
      logger.info(
        outage ? 'RabbitMQ is back: publishing the events that waited in the outbox' : 'connected to RabbitMQ',
      );
      outage = false;
    });
    const down = (error: Error) => {
      state.connected = false;
      state.lastError = error.message;
      channel = undefined;
      // Once per outage, not once per retry: the relay keeps retrying quietly with backoff.
      if (!outage)
        logger.warn(`RabbitMQ is unreachable (${error.message}): events wait in the outbox until it is back`);
      outage = true;
    };
    connection.on('disconnect', down);
    connection.on('connect-failed', down);
    connection.on('error', (error: Error) => (state.lastError = error.message));
  }

  async function ensureChannel(): Promise<ConfirmChannel> {
    if (channel) return channel;
    if (!connection) throw new Error('relay is not started');
    const opened = await connection.createConfirmChannel();
    opened.on('close', () => {
      if (channel === opened) channel = undefined;
    });
    opened.on('error', (error: Error) => (state.lastError = error.message));
    await declareTopology(opened, { eventsExchange: deps.exchange });
    channel = opened;
    return opened;
  }

  /** Tries to become the publisher; the lock lives as long as this dedicated session. */
  async function tryLead(): Promise<boolean> {
    if (state.leader) return true;
    if (!lockClient) {
      const client = new pg.Client({ connectionString: deps.databaseUrl });
      client.on('error', (error) => {
        logger.warn(`lost the relay's database session (${error.message}): standing down`);
        state.leader = false;
        lockClient = undefined;
      });
      await client.connect();
      lockClient = client;
    }
    const { rows } = await lockClient.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [
      leaderLockKey,
    ]);
    state.leader = firstRow(rows, 'pg_try_advisory_lock').locked;
    if (state.leader) logger.info('this relay is now the publisher');
    return state.leader;
  }

  /** Publishes one batch; returns how many events it published. */
  async function publishBatch(): Promise<number> {
    const rows = await nextBatch(em, deps.batchSize);
    if (rows.length === 0) return 0;
    const publishing = await ensureChannel();
    // Each event written inside a trace is published in it: a span from its publish to the broker's confirm,
    // whose context the message carries in its headers (README, Traces); untraced, the relay passes the context on.
    const spans: Span[] = [];
    // The whole batch is confirmed or the whole batch is retried: never mark what the broker did not take.
    const confirming = deps.metrics?.confirmSeconds.startTimer();
    try {
      for (const row of rows) {
        const { routingKey, content, options } = toWireMessage(row);
        const traced = startPublishSpan(row.trace_context, { exchange: deps.exchange, routingKey, messageId: row.id });
        if (traced?.span) spans.push(traced.span);
        const sent = traced ? { ...options, headers: { ...options.headers, ...traced.headers } } : options;
        publishing.publish(deps.exchange, routingKey, content, sent);
      }
      await confirmedWithin(publishing, deps.confirmTimeoutMs);
    } catch (error) {
      endPublishSpans(spans, error);
      throw error;
    }
    endPublishSpans(spans);
    confirming?.();
    await markPublished(
      em,
      rows.map((r) => r.id),
    );
    state.published += rows.length;
    deps.metrics?.published.inc(rows.length);
    return rows.length;
  }

  async function run(): Promise<void> {
    while (running) {
      let published = 0;
      try {
        if (await tryLead()) published = await publishBatch();
      } catch (error) {
        state.lastError = error instanceof Error ? error.message : String(error);
        channel = undefined;
        if (state.connected) logger.warn(`publishing failed, retrying: ${state.lastError}`);
      }
      // A full batch means a backlog: go again at once. Otherwise wait for the next poll.
      if (running && published < deps.batchSize) await sleep(deps.pollIntervalMs);
    }
  }

  /** The batch's confirms, or an error after `ms`: the channel is then dropped (its late confirms mark nothing). */
  async function confirmedWithin(publishing: ConfirmChannel, ms: number): Promise<void> {
    const confirms = publishing.waitForConfirms();
    if (await finishedWithin(ms, confirms)) return await confirms;
    confirms.catch(() => undefined);
    if (channel === publishing) channel = undefined;
    // Not awaited: on a stalled link the close waits for the broker as long as the confirms did.
    publishing.close().catch(() => undefined);
    throw new Error(`RabbitMQ did not confirm the batch within ${ms} ms: publishing it again on a new channel`);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  return {
    async start() {
      if (running) return;
      running = true;
      await openBroker();
      loop = run();
    },
    async stop(options = {}) {
      running = false;
      wake?.();
      // The loop ends after the batch in hand: given a grace period, let its confirms and mark land first.
      if (options.graceMs && loop) {
        const confirmed = await finishedWithin(options.graceMs, loop);
        if (!confirmed)
          logger.warn(
            `a batch was still unconfirmed after ${options.graceMs} ms: it stays in the outbox and is published again`,
          );
      }
      // Closing the connection releases a loop still waiting for the broker; an unconfirmed batch stays unmarked.
      await connection?.close().catch(() => undefined);
      await loop;
      await lockClient?.end().catch(() => undefined);
      state.connected = false;
      state.leader = false;
    },
    status: () => ({ ...state }),
  };
}
