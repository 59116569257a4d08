import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
} from '@opentelemetry/api';

/**
 * Trace context across the outbox and RabbitMQ, in W3C form (`traceparent`, `tracestate`): written with the
 * outbox row, sent as AMQP headers by the relay, read back by the consumer.
 */
export type TraceCarrier = Record<string, string>;

// Asked of the global provider at each use, not kept: a tracer kept from one provider outlives its shutdown.
const tracer = () => trace.getTracer('inventory-service/messaging');

/** The active trace context as W3C headers, or null outside a trace (and always while tracing is off). */
export function activeTraceCarrier(): TraceCarrier | null {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : null;
}

/**
 * The relay's span for one event it publishes, a child of the context its outbox row was written in, and the
 * headers that carry this span's context on the message. A relay that does not trace passes the row's context on
 * as it is, with no span; a row written outside a trace gets neither (the relay's own loop starts no trace).
 */
export function startPublishSpan(
  stored: TraceCarrier | null,
  attributes: { exchange: string; routingKey: string; messageId: string },
): { span?: Span; headers: TraceCarrier } | null {
  if (!stored) return null;
  const parent = propagation.extract(ROOT_CONTEXT, stored);
  if (!trace.getSpanContext(parent)) return { headers: stored };
  const span = tracer().startSpan(
    `${attributes.exchange} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation': 'publish',
        'messaging.destination.name': attributes.exchange,
        'messaging.rabbitmq.destination.routing_key': attributes.routingKey,
        'messaging.message.id': attributes.messageId,
      },
    },
    parent,
  );
  const headers: TraceCarrier = {};
  propagation.inject(trace.setSpan(parent, span), headers);
  return { span, headers };
}

/** Ends the relay's spans of a batch once the broker confirmed it, or failed to. */
export function endPublishSpans(spans: readonly Span[], error?: unknown): void {
  for (const span of spans) {
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
    span.end();
  }
}

/**
 * Runs the consumer's handling of one delivery in a span that continues the trace its headers carry (a new
 * trace when they carry none), so what it applies (a workflow update, a ledger write, the events it queues)
 * is part of that trace.
 */
export async function inConsumeSpan<T>(
  headers: Record<string, unknown> | undefined,
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  const carrier: TraceCarrier = {};
  for (const key of ['traceparent', 'tracestate']) {
    const value = headers?.[key];
    if (typeof value === 'string' || Buffer.isBuffer(value)) carrier[key] = String(value);
  }
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const span = tracer().startSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'rabbitmq', ...attributes } },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
    throw error;
  } finally {
    span.end();
  }
}
