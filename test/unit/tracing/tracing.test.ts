import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { MockActivityEnvironment } from '@temporalio/testing';
import winston from 'winston';
import { ConfigError, loadConfig } from '../../../services/config.ts';
import { createLogger } from '../../../services/logger.ts';
import { statementName } from '../../../services/tracing/sql.ts';
import { startTracing, tracingSettingsFrom } from '../../../services/tracing/tracing.ts';

const settings = (env: NodeJS.ProcessEnv) => tracingSettingsFrom(loadConfig(env));

describe('tracing settings', () => {
  it('is off unless an exporter or an OTLP endpoint is named, and OTEL_SDK_DISABLED or none turns it off', () => {
    assert.equal(settings({}).enabled, false);
    assert.equal(settings({ OTEL_SERVICE_NAME: 'inventory' }).enabled, false, 'a name alone exports nothing');
    const endpoint = settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    assert.deepEqual(endpoint, { enabled: true, tracesUrl: 'http://collector:4318/v1/traces' });
    assert.equal(
      settings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/traces' }).tracesUrl,
      'https://collector/traces',
    );
    assert.deepEqual(settings({ OTEL_TRACES_EXPORTER: 'otlp' }), {
      enabled: true,
      tracesUrl: 'http://localhost:4318/v1/traces',
    });
    assert.equal(
      settings({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).enabled,
      false,
    );
    assert.equal(settings({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }).enabled, false);
    assert.equal(settings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'inv' }).serviceName, 'inv');
  });

  it('refuses what it cannot honour, naming the variable', () => {
    assert.throws(
      () =>
        loadConfig({
          OTEL_TRACES_EXPORTER: 'jaeger',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317',
          OTEL_SDK_DISABLED: 'yes',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        for (const name of [
          'OTEL_TRACES_EXPORTER',
          'OTEL_EXPORTER_OTLP_PROTOCOL',
          'OTEL_EXPORTER_OTLP_ENDPOINT',
          'OTEL_SDK_DISABLED',
        ])
          assert.match(error.message, new RegExp(`${name}=`));
        return true;
      },
    );
  });

  it('names a SQL span by its operation and table, never by its values', () => {
    assert.equal(statementName('insert into outbox_event (id) values (?)'), 'insert outbox_event');
    assert.equal(statementName('update "stock" set available = ? where id = ?'), 'update stock');
    assert.equal(statementName('delete from idempotency_key where key = ?'), 'delete idempotency_key');
    assert.equal(statementName('select s.id from "stock" s where s.id = ?'), 'select stock');
    assert.equal(statementName("select set_config('app.organization_id', ?, true)"), 'select');
  });
});

describe('log fields', () => {
  function capture(): { lines: Record<string, unknown>[]; logger: winston.Logger } {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, 'unit');
    logger.clear();
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    logger.add(new winston.transports.Stream({ stream }));
    return { lines, logger };
  }

  it('a line written in a span names its trace and span; outside one, and with tracing off, it names none', async () => {
    const { lines, logger } = capture();
    const off = startTracing({ enabled: false, tracesUrl: 'http://127.0.0.1:9/v1/traces' }, 'unit');
    trace.getTracer('unit').startActiveSpan('off', (span) => {
      logger.info('with tracing off');
      span.end();
    });
    await off.shutdown();
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ enabled: true, tracesUrl: 'http://127.0.0.1:9/v1/traces' }, 'unit', { exporter });
    try {
      let ids: { traceId: string; spanId: string } | undefined;
      trace.getTracer('unit').startActiveSpan('work', (span) => {
        ids = span.spanContext();
        logger.info('inside');
        span.end();
      });
      logger.info('outside');
      assert.equal(lines[0]?.trace_id, undefined);
      assert.equal(lines[1]?.trace_id, ids?.traceId);
      assert.equal(lines[1]?.span_id, ids?.spanId);
      assert.equal(lines[2]?.trace_id, undefined);
    } finally {
      await tracing.shutdown();
    }
  });

  it('a line written in an activity names its workflow and run', async () => {
    const { lines, logger } = capture();
    const environment = new MockActivityEnvironment({
      workflowExecution: { workflowId: 'reservation-org-order-1', runId: 'run-1' },
    });
    await environment.run(async () => logger.info('in the activity'));
    logger.info('elsewhere');
    assert.equal(lines[0]?.workflowId, 'reservation-org-order-1');
    assert.equal(lines[0]?.runId, 'run-1');
    assert.equal(lines[1]?.workflowId, undefined);
  });
});
