import winston from 'winston';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { asyncLocalStorage as activityContext } from '@temporalio/activity';
import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import type { Config } from './config.ts';

export type Logger = winston.Logger;

/**
 * Where the line was written from (README, Traces): `trace_id` and `span_id` of the active span (none while
 * tracing is off), and inside an activity its workflow's `workflowId` and `runId`, the names the Temporal SDK's
 * own lines use. What the line already carries wins: a workflow's line, logged by the worker through the SDK's
 * sink, names its own workflow and the span it was written in.
 */
const whereFrom = winston.format((info) => {
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span) && info.trace_id === undefined) {
    info.trace_id = span.traceId;
    info.span_id = span.spanId;
  }
  const execution = activityContext.getStore()?.info.workflowExecution;
  if (execution && info.workflowId === undefined) {
    info.workflowId = execution.workflowId;
    info.runId = execution.runId;
  }
  return info;
});

/**
 * One logger configuration for every process: JSON lines (one object a line, with `service` and any
 * context such as requestId, workflowId, runId, activityType, trace_id and span_id), or coloured text on a
 * terminal.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>, service: string): Logger {
  const pretty = config.LOG_FORMAT === 'pretty' || (config.LOG_FORMAT === 'auto' && process.stdout.isTTY);
  const format = pretty
    ? winston.format.combine(
        whereFrom(),
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.colorize(),
        winston.format.printf(({ timestamp, level, message, service: svc, ...meta }) => {
          const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
          return `${timestamp} ${level} [${svc}] ${message}${rest}`;
        }),
      )
    : winston.format.combine(
        whereFrom(),
        winston.format.timestamp(),
        winston.format.errors({ stack: true }),
        winston.format.json(),
      );
  return winston.createLogger({
    level: config.LOG_LEVEL,
    defaultMeta: { service },
    format,
    transports: [new winston.transports.Console()],
  });
}

const temporalToWinston: Record<LogLevel, string> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Adapts winston to the Temporal SDK's Logger, so the SDK's own lines, workflow `log` and activity `log`
 * (which carry workflowId, runId and activityType as metadata) land in the same stream.
 */
export function temporalLoggerFrom(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const { sdkComponent, ...rest } = (meta ?? {}) as Record<string, unknown>;
    logger.log(temporalToWinston[level], message, { component: sdkComponent ?? 'temporal', ...rest });
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
