import { context, propagation, trace } from '@opentelemetry/api';
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
  /** Where finished spans go (the worker's workflow spans too); a no-op when tracing is off. */
  readonly spanProcessor: SpanProcessor;
  readonly resource: Resource;
  /** Flushes the spans still buffered and unregisters the global tracer provider. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for one part of the service (`grpc`, `http`, `worker`, `relay`, `consumer`) when the settings
 * say so: a global tracer provider with the W3C trace-context propagator and an async-local context, its spans
 * batched to the OTLP exporter (or to `exporter`, a test's). Off, nothing is registered: the OpenTelemetry API
 * stays the no-op it is by default, and the facades and the worker add no interceptor.
 */
export function startTracing(settings: TracingSettings, part: string, exporter?: SpanExporter): Tracing {
  if (!settings.enabled) {
    return {
      enabled: false,
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
  provider.register();
  return {
    enabled: true,
    spanProcessor,
    resource,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
