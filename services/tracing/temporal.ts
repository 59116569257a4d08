import { fileURLToPath } from 'node:url';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { Tracing } from './tracing.ts';

/**
 * The workflow interceptors module every workflow bundle includes (the worker's, the prebuilt image bundle and
 * the tests' and replay's), so that what runs is what the recorded histories replay against. Inert outside a
 * trace (see the module).
 */
export const workflowTracingInterceptors = fileURLToPath(
  new URL('../../workflows/tracing-interceptors.ts', import.meta.url),
);

/**
 * The Temporal client's interceptors: each start, update and Update-with-Start in a client span whose context
 * goes to the workflow in its headers. None when tracing is off.
 */
export function workflowClientInterceptors(tracing: Pick<Tracing, 'enabled'>): {
  workflow: WorkflowClientInterceptor[];
} {
  return { workflow: tracing.enabled ? [new OpenTelemetryWorkflowClientInterceptor()] : [] };
}

/**
 * What the worker adds: activities run in spans continuing the workflow's, with `trace_id` and `span_id` on
 * their log lines; and the sink through which the workflows' spans (made in the sandbox) reach this process's
 * span processor. The sink is registered even with tracing off, for the bundle's interceptors to find; they
 * call it only inside a trace, and then it drops what it gets.
 */
export function workerTracing(tracing: Tracing): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      activity: tracing.enabled
        ? [
            (ctx) => ({
              inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
              outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
            }),
          ]
        : [],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
