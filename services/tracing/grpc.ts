import * as grpc from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';

// Asked of the global provider at each use, not kept: a tracer kept from one provider outlives its shutdown.
const tracer = () => trace.getTracer('inventory-service/grpc');

// The codes that mean the server failed (OpenTelemetry's gRPC conventions); the others are the caller's answer.
const serverFaults = new Set([
  grpc.status.UNKNOWN,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.UNIMPLEMENTED,
  grpc.status.INTERNAL,
  grpc.status.UNAVAILABLE,
  grpc.status.DATA_LOSS,
]);

/**
 * Each call of the service at `servicePath` (health and reflection are left out) in a server span, continuing
 * the trace of the caller's `traceparent` metadata: from its metadata to the status sent, whatever sent it.
 * The call's later steps (the other interceptors, the handler) run in that span's context, so the workflow
 * client, SQL and outbox spans they make are its children. Installed last: outermost, it sees the call first.
 */
export function tracingInterceptor(servicePath: string): grpc.ServerInterceptor {
  return (descriptor, call) => {
    if (!descriptor.path.startsWith(`/${servicePath}/`)) return new grpc.ServerInterceptingCall(call);
    const method = descriptor.path.slice(servicePath.length + 2);
    let active: Context | undefined;
    const within = (next: () => void) => (active ? context.with(active, next) : next());
    const end = (code: grpc.status, details?: string) => {
      const span = active && trace.getSpan(active);
      active = undefined;
      if (!span) return;
      span.setAttribute('rpc.grpc.status_code', code);
      if (serverFaults.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: details ?? '' });
      span.end();
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, passOn) => {
            const carrier: Record<string, string> = {};
            for (const key of ['traceparent', 'tracestate']) {
              const [value] = metadata.get(key);
              if (typeof value === 'string') carrier[key] = value;
            }
            const parent = propagation.extract(ROOT_CONTEXT, carrier);
            const span = tracer().startSpan(
              `${servicePath}/${method}`,
              {
                kind: SpanKind.SERVER,
                attributes: { 'rpc.system': 'grpc', 'rpc.service': servicePath, 'rpc.method': method },
              },
              parent,
            );
            active = trace.setSpan(parent, span);
            within(() => passOn(metadata));
          },
          onReceiveMessage: (message, passOn) => within(() => passOn(message)),
          onReceiveHalfClose: (passOn) => within(passOn),
          onCancel: () => end(grpc.status.CANCELLED),
        }),
      sendStatus: (status, next) => {
        end(status.code, status.details);
        next(status);
      },
    });
  };
}
