import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';

// Asked of the global provider at each use, not kept: a tracer kept from one provider outlives its shutdown.
const tracer = () => trace.getTracer('inventory-service/http');

/**
 * Each request in a server span, continuing the trace of its `traceparent` header, named by its Express route
 * template once routed (`POST /api/v1/transfers/:id/ship`, never the raw URL). Everything after runs in the
 * span's context, the request's and response's events too (body parsing answers from the socket), so the
 * workflow client, SQL and outbox spans of the request are its children. Installed first on the API's router.
 */
export function traceRequests(): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.path },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    // The request's own logger names the span too: its access line is written from the socket's events.
    const { traceId, spanId } = span.spanContext();
    res.locals.logger = res.locals.logger.child({ trace_id: traceId, span_id: spanId });
    // 'close' comes for an answered request and for one whose client went away alike.
    res.once('close', () => {
      const route = req.route?.path;
      if (typeof route === 'string') {
        const template = `${req.baseUrl}${route === '/' ? '' : route}`;
        span.setAttribute('http.route', template);
        span.updateName(`${req.method} ${template}`);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, next);
  };
}
