import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { DefaultLogger, type LogContext } from '@mikro-orm/core';

// Asked of the global provider at each use, not kept: a tracer kept from one provider outlives its shutdown.
const tracer = () => trace.getTracer('inventory-service/sql');

// `insert into "outbox_event"`, `update "stock"`, `delete from x`, `select … from "reservation"`: the operation
// and the first table it names make the span's name; the statement itself (with its placeholders, never the
// values) is an attribute.
const target =
  /^\s*(?:(insert)\s+into|(update)|(delete)\s+from)\s+"?([\w.]+)"?|^\s*(select|with)\b[\s\S]*?\bfrom\s+"?([\w.]+)"?/i;

/** The span name of a statement: `insert outbox_event`, `select stock`, or its first word. */
export function statementName(query: string): string {
  const match = target.exec(query);
  if (match) {
    const operation = (match[1] ?? match[2] ?? match[3] ?? match[5] ?? '').toLowerCase();
    return `${operation} ${match[4] ?? match[6]}`;
  }
  return (/^\s*(\w+)/.exec(query)?.[1] ?? 'sql').toLowerCase();
}

/**
 * MikroORM's logger, which also records each SQL statement as a client span of the span active where it ran
 * (MikroORM reports a statement after it answered, with how long it took, in the caller's async context). Only
 * inside a trace: the relay's polls and other background statements make no root spans. BEGIN and COMMIT are
 * reported without a duration and make none. What MikroORM itself prints is unchanged (its `debug` option).
 */
export class SqlSpanLogger extends DefaultLogger {
  override logQuery(context: { query: string } & LogContext): void {
    super.logQuery(context);
    const parent = trace.getActiveSpan();
    if (!parent?.isRecording() || context.took === undefined) return;
    const end = Date.now();
    const span = tracer().startSpan(statementName(context.query), {
      kind: SpanKind.CLIENT,
      startTime: end - context.took,
      attributes: {
        'db.system': 'postgresql',
        'db.statement': context.query.length > 2000 ? `${context.query.slice(0, 2000)}…` : context.query,
        ...(context.results === undefined ? {} : { 'db.rows_returned': context.results }),
        ...(context.affected === undefined ? {} : { 'db.rows_affected': context.affected }),
      },
    });
    if (context.level === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
  }
}
