/**
 * Not a workflow: the OpenTelemetry workflow interceptors of @temporalio/interceptors-opentelemetry, as the bundle
 * loads them (README, Traces). They run the workflow, its update and signal handlers and each activity it
 * schedules in spans of the trace the caller sent, and the worker exports those spans through its `exporter`
 * sink. Two things are added around them, both for determinism and cost:
 *
 * - Their span ids come from a random stream of their own (`getRandomStream`), never from the workflow's
 *   Math.random: otherwise every span would move the sequence `uuid4()` draws from (the nightly reconciliation
 *   names each run with it), and a span made live but not on replay (an update's validator, a query) would
 *   give a replay other ids than the original run used.
 * - They act only inside a trace: a call that brings no trace context (the caller does not trace, a Temporal
 *   Schedule started the run) and a workflow with no span make no spans, so with tracing off nothing is spent.
 *
 * They add no command: an activity's headers carry the context; no timer, marker or activity is added.
 */
import { trace } from '@opentelemetry/api';
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import {
  getRandomStream,
  type Next,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

type Headers = Parameters<Next<WorkflowInboundCallsInterceptor, 'execute'>>[0]['headers'];

export const interceptors: WorkflowInterceptorsFactory = () => {
  const random = getRandomStream('inventory-service/opentelemetry');
  const inbound = new OpenTelemetryInboundInterceptor();
  const outbound = new OpenTelemetryOutboundInterceptor();
  const traced = (headers: Headers) => headers[TRACE_HEADER] !== undefined;
  const inSpan = () => trace.getActiveSpan() !== undefined;

  const tracedInbound: WorkflowInboundCallsInterceptor = {
    execute: (input, next) => (traced(input.headers) ? random.with(() => inbound.execute(input, next)) : next(input)),
    handleSignal: (input, next) =>
      traced(input.headers) ? random.with(() => inbound.handleSignal(input, next)) : next(input),
    handleUpdate: (input, next) =>
      traced(input.headers) ? random.with(() => inbound.handleUpdate(input, next)) : next(input),
    validateUpdate: (input, next) =>
      traced(input.headers) ? random.with(() => inbound.validateUpdate(input, next)) : next(input),
    handleQuery: (input, next) =>
      traced(input.headers) ? random.with(() => inbound.handleQuery(input, next)) : next(input),
  };
  const tracedOutbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) =>
      inSpan() ? random.with(() => outbound.scheduleActivity(input, next)) : next(input),
    scheduleLocalActivity: (input, next) =>
      inSpan() ? random.with(() => outbound.scheduleLocalActivity(input, next)) : next(input),
    startChildWorkflowExecution: (input, next) =>
      inSpan() ? random.with(() => outbound.startChildWorkflowExecution(input, next)) : next(input),
    continueAsNew: (input, next) => (inSpan() ? random.with(() => outbound.continueAsNew(input, next)) : next(input)),
    signalWorkflow: (input, next) => (inSpan() ? random.with(() => outbound.signalWorkflow(input, next)) : next(input)),
    getLogAttributes: (input, next) => outbound.getLogAttributes(input, next),
  };
  return { inbound: [tracedInbound], outbound: [tracedOutbound], internals: [new OpenTelemetryInternalsInterceptor()] };
};
