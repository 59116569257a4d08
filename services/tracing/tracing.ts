import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResourcesSync, envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  NoopSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { finishedWithin } from '../readiness.ts';

// How long a stopping part waits for the collector to take its last spans: after its drain, before it exits.
const lastSpansGraceMs = 2000;

/** Whether this process traces, and where the spans go: what the standard OTEL_* variables decided (config.ts). */
export interface TracingSettings {
  enabled: boolean;
  /** The OTLP/HTTP traces endpoint (…/v1/traces). */
  tracesUrl: string;
  serviceName?: string;
}

export type TracingConfig = Pick<
  Config,
  | 'OTEL_SDK_DISABLED'
  | 'OTEL_TRACES_EXPORTER'
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_SERVICE_NAME'
>;

/**
 * Off unless configured: an exporter (`OTEL_TRACES_EXPORTER=otlp`) or an OTLP endpoint turns tracing on,
 * `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true` keeps it off whatever else is set.
 */
export function tracingSettingsFrom(config: TracingConfig): TracingSettings {
  const named =
    config.OTEL_TRACES_EXPORTER === 'otlp' ||
    (config.OTEL_TRACES_EXPORTER === undefined &&
      (config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined));
  const base = (config.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '');
  return {
    enabled: named && !config.OTEL_SDK_DISABLED,
    tracesUrl: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${base}/v1/traces`,
    ...(config.OTEL_SERVICE_NAME ? { serviceName: config.OTEL_SERVICE_NAME } : {}),
  };
}

/** This process's tracing: what the worker hands the workflow span sink, and how to flush at exit. */
export interface Tracing {
  readonly enabled: boolean;
  /** What the process says at start: where its spans go, or that tracing is off. */
  readonly description: string;
  /** Where finished spans go (the worker's workflow spans too); a no-op when tracing is off. */
  readonly spanProcessor: SpanProcessor;
  readonly resource: Resource;
  /**
   * Sends the spans still buffered (for at most 2 s) and unregisters the global tracer provider. Never fails:
   * spans the collector does not take are lost with a warning, and the process stops as it would have.
   */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for one part of the service (`grpc`, `http`, `worker`, `relay`, `consumer`) when the settings
 * say so: a global tracer provider with the W3C trace-context propagator and an async-local context, its spans
 * batched to the OTLP exporter (or to `exporter`, a test's). The SDK's own warnings and errors (a collector
 * that does not answer) go to `logger`, as warnings: tracing never fails the service. Off, nothing is
 * registered: the OpenTelemetry API stays the no-op it is by default, and the facades and the worker add no
 * interceptor.
 */
export function startTracing(
  settings: TracingSettings,
  part: string,
  options: { logger?: Logger; exporter?: SpanExporter } = {},
): Tracing {
  const { logger, exporter } = options;
  if (!settings.enabled) {
    return {
      enabled: false,
      description: 'traces: off (README, Traces: set OTEL_EXPORTER_OTLP_ENDPOINT to send them)',
      spanProcessor: new NoopSpanProcessor(),
      resource: Resource.empty(),
      shutdown: async () => undefined,
    };
  }
  const detected = detectResourcesSync({ detectors: [envDetectorSync] });
  const serviceName = settings.serviceName ?? detected.attributes['service.name'] ?? 'inventory-service';
  const resource = Resource.default()
    .merge(detected)
    .merge(new Resource({ 'service.name': serviceName, 'inventory.process': part }));
  const spanProcessor = new BatchSpanProcessor(exporter ?? new OTLPTraceExporter({ url: settings.tracesUrl }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  if (logger) {
    const warn = (message: string, ...args: unknown[]) =>
      logger.warn(`OpenTelemetry: ${[message, ...args.map(String)].join(' ')}`);
    const quiet = () => undefined;
    diag.setLogger({ error: warn, warn, info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
  }
  provider.register();
  return {
    enabled: true,
    description: `traces: ${exporter ? 'to the exporter given' : `OTLP to ${settings.tracesUrl}`} as ${serviceName}`,
    spanProcessor,
    resource,
    async shutdown() {
      const sent = provider
        .shutdown()
        .catch((error: unknown) => logger?.warn(`traces still buffered were not sent: ${String(error)}`));
      if (!(await finishedWithin(lastSpansGraceMs, sent)))
        logger?.warn(`the collector did not take the last traces within ${lastSpansGraceMs} ms: they are dropped`);
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    },
  };
}
