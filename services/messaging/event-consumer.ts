import { createHash } from 'node:crypto';
import { findUnacceptable } from '../unacceptable-input.ts';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import { z } from 'zod';
import type { Orm } from '../db/orm.ts';
import { WorkflowUnavailableError } from '../inventory/errors.ts';
import { scopeTo, type OrganizationScope } from '../inventory/organization-scope.ts';
import type { Logger } from '../logger.ts';
import { consumedEnvelope } from './envelope.ts';
import {
  countFailedAttempt,
  hasAttemptWithFingerprint,
  isConsumed,
  resetAttempts,
  type ConsumedEvent,
} from './inbox.store.ts';
import { declareConsumerTopology, type ConsumedSource, type ConsumerTopology } from './topology.ts';
import type { ConsumerMetrics } from '../metrics/consumer.ts';
import { finishedWithin } from '../readiness.ts';
import { inConsumeSpan } from '../tracing/messages.ts';

/**
 * Consumes other services' events (order, catalog, purchasing): manual acks, prefetch, a recovering connection. A message is
 * acknowledged only after its effect and its inbox row are committed; a redelivered one finds its inbox
 * row and is acknowledged unapplied.
 *
 * Every read and write of the inbox and of the attempt counts runs in a transaction bound to the message's
 * organization (`scopeTo(…).transaction`), so row-level security holds for them too. Nothing touches
 * the database before the organization is known: a message refused on admission (wrong exchange or
 * publisher, bad JSON, schema mismatch) is dead-lettered without a database call.
 *
 * A message is trusted for where it came from, not for what its body says: it must have come through its
 * source's exchange with the routing key its body's `event` names, be an event that source publishes, and,
 * when the source has a publisher, carry that publisher's `user_id`. Anything else, and a malformed
 * message (bad JSON, schema mismatch), goes to the dead-letter queue at once with the reason.
 *
 * One that keeps failing is retried with backoff up to `maxAttempts` failures, counted in PostgreSQL
 * (`consumer_attempt`), then dead-lettered with the error and the count. A retry or dead-letter copy is
 * confirmed by the broker before the delivery it replaces is acknowledged, so a crash loses nothing.
 */
export interface EventConsumerDeps {
  orm: Orm;
  amqpUrl: string;
  topology: ConsumerTopology;
  logger: Logger;
  maxAttempts: number;
  prefetch?: number;
  /**
   * Each source's events, by source name, and how each is applied: a source's queue applies only its own
   * set. A handler records the event in the inbox (inbox.store.ts) in its effect's transaction.
   */
  handlers: Record<string, Record<string, EventHandler>>;
  /** Counts settled deliveries by source and outcome (README, Metrics); none = not recorded. */
  metrics?: Pick<ConsumerMetrics, 'messages'>;
}

/**
 * Parses an admitted message and applies it through the domain, which records `event` in the inbox in
 * the same transaction as the effect; answers the outcome it recorded. A z.ZodError is a malformed
 * message (dead-lettered at once); any other error is retried.
 */
export type EventHandler = (raw: unknown, event: ConsumedEvent) => Promise<string>;

/** A retry copy goes through the default exchange, so it carries what its original came with. */
const retryRoutingKeyHeader = 'x-inventory-routing-key';
const retryPublisherHeader = 'x-inventory-publisher';

/** A message that passed every check of its source, and what it is. */
interface Admitted {
  raw: unknown;
  handler: EventHandler;
  organizationId: string;
  event: ConsumedEvent;
  routingKey: string;
  publisher?: string;
  /** Names the message as admitted, so its retry copies can be told from a forgery. */
  fingerprint: string;
  retryCopy: boolean;
}

export function createEventConsumer(deps: EventConsumerDeps) {
  const { logger, topology } = deps;
  for (const source of topology.sources) {
    if (!Object.hasOwn(deps.handlers, source.name))
      throw new Error(`no handlers for the ${source.name} source (${source.queue})`);
  }
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const closedChannels = new WeakSet<Channel>();
  // The channel the queues are consumed on, and its consumer tags; none while the broker is away.
  let consuming: { channel: ConfirmChannel; tags: string[] } | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  function connect() {
    return amqp.connect(deps.amqpUrl, {
      recovery: {
        initialDelay: 200,
        maxDelay: 10_000,
        waitForConnect: false,
        // Topology and the consumer are set up again after every reconnect.
        setup: async (model: ChannelModel) => {
          // A confirm channel: a retry or dead-letter copy is confirmed before the original is acknowledged.
          const channel = await model.createConfirmChannel();
          // A lost connection errors its channels; recovery makes new ones, so this one only needs to be let go.
          channel.on('error', (error: Error) => logger.warn(`consumer channel closed: ${error.message}`));
          channel.on('close', () => {
            closedChannels.add(channel);
            if (consuming?.channel === channel) consuming = undefined;
          });
          await declareConsumerTopology(channel, topology);
          await channel.prefetch(deps.prefetch ?? 20);
          // A reconnect while stopping must not start consuming again.
          if (stopped) return;
          const tags: string[] = [];
          for (const source of topology.sources) {
            const { consumerTag } = await channel.consume(source.queue, (message: ConsumeMessage | null) => {
              if (!message) return;
              const work = process(channel, source, message).finally(() => inFlight.delete(work));
              inFlight.add(work);
            });
            tags.push(consumerTag);
          }
          consuming = { channel, tags };
          markReady();
        },
      },
    });
  }

  /** Settles one delivery in a span that continues the trace its `traceparent` header names (README, Traces). */
  async function process(channel: ConfirmChannel, source: ConsumedSource, message: ConsumeMessage): Promise<void> {
    const attributes = {
      'messaging.operation': 'process',
      'messaging.destination.name': message.fields.exchange || source.queue,
      'messaging.rabbitmq.destination.routing_key': message.fields.routingKey,
      ...(message.properties.messageId ? { 'messaging.message.id': String(message.properties.messageId) } : {}),
    };
    return inConsumeSpan(message.properties.headers, `${source.queue} process`, attributes, () =>
      settle(channel, source, message),
    );
  }

  /**
   * Settles one delivery. What fails here is the database, the broker or the workflows, not the event: the
   * delivery is held and tried again (uncounted) until they answer, or left to the broker when its channel
   * is gone.
   */
  async function settle(channel: ConfirmChannel, source: ConsumedSource, message: ConsumeMessage): Promise<void> {
    for (let wait = 200; ; wait = Math.min(wait * 2, 10_000)) {
      try {
        return await deliver(channel, source, message);
      } catch (error) {
        if (stopped || closedChannels.has(channel)) {
          logger.warn(`a delivery was left unacknowledged and will be redelivered: ${String(error)}`);
          return;
        }
        logger.warn(`could not settle a delivery from ${source.queue}, trying again in ${wait} ms: ${String(error)}`);
        await sleep(wait);
      }
    }
  }

  async function deliver(channel: ConfirmChannel, source: ConsumedSource, message: ConsumeMessage): Promise<void> {
    const admitted = admit(source, message);
    if (typeof admitted === 'string') return deadLetter(channel, source, message, admitted, 0);
    const { event } = admitted;
    const scope = scopeTo(deps.orm.em, admitted.organizationId);
    // One transaction for both checks: is a retry copy one of ours, and was the event applied already?
    const verdict = await scope.transaction(async (tx) => {
      if (admitted.retryCopy && !(await hasAttemptWithFingerprint(tx, event, admitted.fingerprint))) return 'forged';
      return (await isConsumed(tx, event)) ? 'duplicate' : 'new';
    });
    if (verdict === 'forged') {
      return deadLetter(
        channel,
        source,
        message,
        'a retry copy this consumer did not make (it came through the default exchange)',
        0,
      );
    }
    if (verdict === 'duplicate') {
      channel.ack(message);
      deps.metrics?.messages.inc({ source: source.name, outcome: 'duplicate' });
      return;
    }
    try {
      const outcome = await admitted.handler(admitted.raw, event);
      logger.info(`${event.name} ${event.eventId}: ${outcome}`);
      channel.ack(message);
      deps.metrics?.messages.inc({ source: source.name, outcome: 'applied' });
    } catch (error) {
      if (error instanceof z.ZodError) return deadLetter(channel, source, message, schemaMismatch(error), 0, admitted);
      // No worker or no Temporal answered in time: the service is failing, not the event. Held and tried again
      // uncounted (settle), as in a database outage, so an outage of any length dead-letters no order event.
      if (error instanceof WorkflowUnavailableError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      const attempts = await countFailure(scope, admitted, reason);
      if (attempts >= deps.maxAttempts) {
        await deadLetter(channel, source, message, reason, attempts, admitted);
        // A replay from the dead-letter queue starts counting afresh; failing to reset only costs it its retries.
        await scope
          .transaction((tx) => resetAttempts(tx, event))
          .catch((e: unknown) =>
            logger.warn(`could not reset the attempts of ${event.name} ${event.eventId}: ${String(e)}`),
          );
        return;
      }
      const delay = Math.min(200 * 2 ** (attempts - 1), 10_000);
      logger.warn(
        `${event.name} ${event.eventId} failed (attempt ${attempts} of ${deps.maxAttempts}), ` +
          `retrying in ${delay} ms: ${reason}`,
      );
      await sleep(delay);
      await publishConfirmed(
        channel,
        source.queue,
        message.content,
        copyProperties(message, {
          [retryRoutingKeyHeader]: admitted.routingKey,
          ...(admitted.publisher === undefined ? {} : { [retryPublisherHeader]: admitted.publisher }),
        }),
      );
      channel.ack(message);
      deps.metrics?.messages.inc({ source: source.name, outcome: 'retried' });
    }
  }

  /** The message as its source vouches for it, or why it is refused. */
  function admit(source: ConsumedSource, message: ConsumeMessage): Admitted | string {
    const headers = message.properties.headers ?? {};
    const fromExchange = message.fields.exchange === source.exchange;
    // Any queue can also be published to through the default exchange: only our own retry copies may come that way.
    const retryCopy =
      message.fields.exchange === '' &&
      message.fields.routingKey === source.queue &&
      typeof headers[retryRoutingKeyHeader] === 'string';
    if (!fromExchange && !retryCopy) {
      return `came through ${message.fields.exchange ? `exchange ${message.fields.exchange}` : 'the default exchange'}, not ${source.exchange} (the ${source.name} source)`;
    }
    const routingKey = fromExchange ? message.fields.routingKey : String(headers[retryRoutingKeyHeader]);
    const claimed: unknown = fromExchange ? message.properties.userId : headers[retryPublisherHeader];
    const publisher = typeof claimed === 'string' || Buffer.isBuffer(claimed) ? String(claimed) : undefined;
    if (source.publisher !== undefined && publisher !== source.publisher) {
      return `published by ${publisher === undefined ? 'a connection that did not name its user (no user_id)' : `user ${publisher}`}, not by ${source.publisher}, the ${source.name} source's publisher`;
    }

    let raw: unknown;
    try {
      raw = JSON.parse(message.content.toString('utf8'));
    } catch {
      return 'the body is not valid JSON';
    }
    // A NUL character (PostgreSQL cannot store it) or absurd nesting could only fail, again and again, further in.
    const unacceptable = findUnacceptable(raw);
    if (unacceptable) return `${unacceptable.field}: ${unacceptable.problem}`;
    const name = (raw as { event?: unknown } | null)?.event;
    if (name !== routingKey) return `the routing key ${routingKey} is not the body's event (${String(name)})`;
    const handlers = deps.handlers[source.name];
    // Checked when the consumer starts; a missing entry here is a bug, not a bad message.
    if (!handlers) throw new Error(`no handlers for the ${source.name} source (${source.queue})`);
    const handler = Object.hasOwn(handlers, routingKey) ? handlers[routingKey] : undefined;
    if (!handler) return `not an event the ${source.name} source publishes (${routingKey})`;
    const envelope = consumedEnvelope.safeParse(raw);
    if (!envelope.success) return schemaMismatch(envelope.error);

    const fingerprint = createHash('sha256')
      .update(`${source.name}\n${routingKey}\n${publisher ?? ''}\n`)
      .update(message.content)
      .digest('hex');
    return {
      raw,
      handler,
      organizationId: envelope.data.organization_id,
      event: { source: source.name, eventId: envelope.data.event_id, name: routingKey },
      routingKey,
      publisher,
      fingerprint,
      retryCopy: !fromExchange,
    };
  }

  /** Counts one more failure of the event and returns the count. */
  function countFailure(scope: OrganizationScope, admitted: Admitted, reason: string): Promise<number> {
    return scope.transaction((tx) => countFailedAttempt(tx, admitted.event, admitted.fingerprint, reason));
  }

  async function deadLetter(
    channel: ConfirmChannel,
    source: ConsumedSource,
    message: ConsumeMessage,
    error: string,
    attempts: number,
    admitted?: Admitted,
  ): Promise<void> {
    logger.error(
      `dead-lettering a message from ${source.queue}${attempts > 0 ? ` after ${attempts} failed attempt(s)` : ''}: ${error}`,
    );
    const userId: unknown = admitted?.publisher ?? message.properties.userId;
    await publishConfirmed(
      channel,
      topology.deadLetterQueue,
      message.content,
      copyProperties(message, {
        'x-inventory-error': error.slice(0, 1000),
        'x-inventory-attempts': attempts,
        'x-inventory-source': source.name,
        'x-inventory-original-routing-key': admitted?.routingKey ?? message.fields.routingKey,
        ...(userId === undefined ? {} : { 'x-inventory-user-id': String(userId) }),
      }),
    );
    channel.ack(message);
    // Dead-lettered at once (attempts 0) is a refusal of the message; after failed attempts, a give-up.
    deps.metrics?.messages.inc({ source: source.name, outcome: attempts > 0 ? 'dead_lettered' : 'refused' });
  }

  return {
    async start(): Promise<void> {
      connection = await connect();
      connection.on(
        'disconnect',
        (error: Error) =>
          !stopped &&
          logger.warn(
            `RabbitMQ connection lost (${error.message}): reconnecting; unacknowledged events will be redelivered`,
          ),
      );
      connection.on('error', (error: Error) => logger.warn(`RabbitMQ connection error: ${error.message}`));
    },
    /** Resolves once the topology is declared and the queues are consumed (the first connection). */
    ready: () => ready,
    /** Messages in the dead-letter queue, by a passive declare on a channel of its own (for the metrics gauge). */
    async deadLetterDepth(): Promise<number> {
      if (!connection) throw new Error('the consumer is not started');
      const channel = await connection.createChannel();
      // A failed check closes the channel by itself; closing it again is harmless.
      channel.on('error', () => undefined);
      try {
        return (await channel.checkQueue(topology.deadLetterQueue)).messageCount;
      } finally {
        await channel.close().catch(() => undefined);
      }
    },
    /** Whether the queues are consumed now (topology declared, channel open), and how many deliveries are being settled. */
    state: (): { consuming: boolean; inFlight: number } => ({
      consuming: consuming !== undefined,
      inFlight: inFlight.size,
    }),
    /**
     * Drains: cancels the consumers (no new deliveries), lets the deliveries in hand settle, for at most
     * `graceMs` when given, then closes the connection; whatever is still unacknowledged is redelivered.
     */
    async stop(options: { graceMs?: number } = {}): Promise<void> {
      stopped = true;
      const current = consuming;
      consuming = undefined;
      if (current) await Promise.allSettled(current.tags.map((tag) => current.channel.cancel(tag)));
      const settling = Promise.allSettled([...inFlight]);
      if (options.graceMs === undefined) await settling;
      else if (!(await finishedWithin(options.graceMs, settling)))
        logger.warn(
          `${inFlight.size} deliveries still unsettled after ${options.graceMs} ms: they will be redelivered`,
        );
      // Closing the channel first sends its acknowledgements ahead of the close, in the channel's order: a
      // connection closed at once may drop acks still queued behind it, and those messages come back.
      await current?.channel.close().catch(() => undefined);
      await connection?.close().catch(() => undefined);
    },
  };
}

/**
 * The message's properties for a copy we publish. Without its user_id: RabbitMQ refuses a user_id that is
 * not the publishing connection's own, and ours is not the original publisher's.
 */
function copyProperties(message: ConsumeMessage, headers: Record<string, unknown>): Options.Publish {
  const { userId: _userId, ...properties } = message.properties;
  // What a copy says it came with is ours to write alone, never the publisher's header passed on.
  const {
    [retryRoutingKeyHeader]: _routingKey,
    [retryPublisherHeader]: _publisher,
    ...kept
  } = message.properties.headers ?? {};
  return { ...properties, headers: { ...kept, ...headers } };
}

function publishConfirmed(
  channel: ConfirmChannel,
  queue: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.sendToQueue(queue, content, options, (error: unknown) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
    );
  });
}

function schemaMismatch(error: z.ZodError): string {
  return `schema mismatch: ${error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
