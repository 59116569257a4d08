import type { Options } from 'amqplib';
import { z } from 'zod';

/** An outbox row as the relay reads it. */
export interface OutboxRow {
  id: string;
  sequence: string;
  organization_id: string;
  name: string;
  payload: Record<string, unknown>;
  created_at: string | Date;
  /** The W3C trace context the row was written in (`traceparent`, `tracestate`), null outside a trace. */
  trace_context: Record<string, string> | null;
}

export interface WireMessage {
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

/**
 * The platform's event envelope (seed 000): {event, version, timestamp, organization_id, event_id, data}.
 * The AMQP message id is the event id, which is what consumers deduplicate on: delivery is at least once.
 */
export function toWireMessage(row: OutboxRow): WireMessage {
  const timestamp = new Date(row.created_at);
  const envelope = {
    event: row.name,
    version: '1.0',
    timestamp: timestamp.toISOString(),
    organization_id: row.organization_id,
    event_id: row.id,
    data: row.payload,
  };
  return {
    routingKey: row.name,
    content: Buffer.from(JSON.stringify(envelope)),
    options: {
      persistent: true,
      contentType: 'application/json',
      messageId: row.id,
      type: row.name,
      timestamp: Math.floor(timestamp.getTime() / 1000),
      appId: 'inventory-service',
    },
  };
}

/**
 * A UUID read from another service's event, in the one spelling this service uses: lower case. The
 * database compares uuids case-blind but strings are not (a workflow id built from an upper-case
 * organization id names no reservation), so every id is canonical before it is used anywhere.
 */
export const eventUuid = () => z.guid().transform((id) => id.toLowerCase());

/** What the consumer reads of any consumed event before its handler parses the rest. */
export const consumedEnvelope = z
  .object({ event: z.string(), event_id: z.string().min(1).max(200), organization_id: eventUuid() })
  .loose();
