import { z } from 'zod';
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { urlForRole } from './db/roles.ts';

/**
 * Every setting of the service, read from the environment and validated once, at start.
 * `.env.example` lists the same variables with the same defaults.
 */
const port = z.coerce.number().int().min(0).max(65535);
const hostPort = z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port');
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/ });
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty', 'auto']).default('auto'),

  // Three roles (README, Security model; services/db/roles.ts): DATABASE_URL is the runtime role every service
  // process uses (never the owner, never a superuser); DATABASE_OWNER_URL the owner that runs the migrations;
  // DATABASE_SYSTEM_URL the system role of the cross-organization work (relay, retention, nightly listing,
  // backlog counts). Unset, the other two are DATABASE_URL with the user inventory_owner / inventory_system and
  // no password (enough for a local server with trust authentication).
  DATABASE_URL: postgresUrl.default('postgresql://inventory_runtime@127.0.0.1:5432/inventory'),
  DATABASE_OWNER_URL: postgresUrl.optional(),
  DATABASE_SYSTEM_URL: postgresUrl.optional(),
  // A user that may create roles and databases (a superuser): with it, the migration job (scripts/migrate.ts)
  // first creates the three roles (passwords from the URLs above) and the database. Unset: they exist already.
  DATABASE_ADMIN_URL: postgresUrl.optional(),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  // Every service session's statement_timeout and idle_in_transaction_session_timeout (0 = none); the
  // migration runner sets none for its own transaction (README, Limits).
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),

  AMQP_URL: z.url({ protocol: /^amqps?$/ }).default('amqp://guest:guest@127.0.0.1:5672'),
  EVENTS_EXCHANGE: z.string().min(1).default('inventory.events'),
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(200),
  OUTBOX_CONFIRM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  ORDER_EVENTS_EXCHANGE: z.string().min(1).default('order.events'),
  CATALOG_EVENTS_EXCHANGE: z.string().min(1).default('catalog.events'),
  PURCHASING_EVENTS_EXCHANGE: z.string().min(1).default('purchasing.events'),
  CONSUMER_QUEUE_PREFIX: z.string().min(1).default('inventory'),
  CONSUMER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  // The RabbitMQ user each source's messages must carry as user_id (README, Events consumed); unset = not checked.
  ORDER_EVENTS_PUBLISHER: z.string().min(1).optional(),
  CATALOG_EVENTS_PUBLISHER: z.string().min(1).optional(),
  PURCHASING_EVENTS_PUBLISHER: z.string().min(1).optional(),

  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('inventory'),
  // A workflow bundle built ahead of time (scripts/bundle-workflows.ts; the image sets it): the worker
  // loads it instead of bundling the sources at start.
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),

  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: port.default(8003),
  GRPC_HOST: z.string().min(1).default('0.0.0.0'),
  GRPC_PORT: port.default(50053),

  // Prometheus metrics (README, Metrics): the REST server serves /metrics on HTTP_PORT; the other parts on
  // these ports of METRICS_HOST (0 = off). The defaults differ from each other and from every other port of npm start.
  // An IP address: the worker's exporter (Temporal's core) binds a socket address, not a host name.
  METRICS_HOST: z.union([z.ipv4(), z.ipv6()]).default('0.0.0.0'),
  GRPC_METRICS_PORT: port.default(9464),
  WORKER_METRICS_PORT: port.default(9465),
  RELAY_METRICS_PORT: port.default(9466),
  CONSUMER_METRICS_PORT: port.default(9467),
  // The worker's GET /health and /ready (README, Health and shutdown): its metrics port is the Temporal SDK's
  // exporter, so it answers probes on a port of its own (0 = off). The other parts answer on their metrics port.
  WORKER_HEALTH_PORT: port.default(9468),
  // On SIGTERM / SIGINT a part turns /ready false, then gets this long to finish what it is doing (requests,
  // calls, activities, a batch's confirms, messages) before it stops hard; then it exits 0.
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),

  // Resource limits (README, Limits). Rate limits are per organization and per token subject, shared by
  // every REST and gRPC process through PostgreSQL; 0 turns one off.
  RATE_LIMIT_ORGANIZATION_PER_SECOND: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  RATE_LIMIT_SUBJECT_PER_SECOND: z.coerce.number().int().min(0).max(1_000_000).default(5_000),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(1),
  // The most of a window's allowance one process takes from PostgreSQL in one round trip.
  RATE_LIMIT_LEASE_PERCENT: z.coerce.number().int().min(1).max(100).default(5),
  QUOTA_ACTIVE_HOLDS_PER_ORGANIZATION: z.coerce.number().int().min(0).max(100_000_000).default(100_000),
  QUOTA_ACTIVE_HOLDS_PER_CUSTOMER: z.coerce.number().int().min(0).max(100_000_000).default(1_000),
  HTTP_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  GRPC_MAX_RECEIVE_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  GRPC_MAX_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(10_000).default(100),
  GRPC_KEEPALIVE_TIME_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  GRPC_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(20_000),
  // 0 = connections live for ever; otherwise a client reconnects (and is rebalanced) after this long.
  GRPC_MAX_CONNECTION_AGE_MS: z.coerce.number().int().min(0).max(86_400_000).default(1_800_000),
  GRPC_MAX_CONNECTION_AGE_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),

  // The catalog's gRPC API, asked before stock is created for a variant not seen yet; unset = no validation.
  CATALOG_GRPC_ADDRESS: hostPort.optional(),
  CATALOG_DEADLINE_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  CATALOG_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  CATALOG_BREAKER_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  CATALOG_BREAKER_RESET_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),

  // When the worker's Temporal Schedule reconciles every organization: a cron expression in UTC, or `off`.
  RECONCILIATION_CRON: z
    .string()
    .trim()
    .regex(/^(off|@[a-z]+|\S+(\s+\S+){4,6})$/, 'expected a cron expression (e.g. "0 3 * * *"), @daily, or off')
    .default('0 3 * * *'),
  // When the worker's Temporal Schedule prunes old idempotency keys, inbox rows and published outbox rows.
  RETENTION_CRON: z
    .string()
    .trim()
    .regex(/^(off|@[a-z]+|\S+(\s+\S+){4,6})$/, 'expected a cron expression (e.g. "17 * * * *"), @hourly, or off')
    .default('17 * * * *'),
  RETENTION_IDEMPOTENCY_HOURS: z.coerce.number().int().min(1).max(87_600).default(48),
  RETENTION_INBOX_DAYS: z.coerce.number().int().min(1).max(3650).default(14),
  RETENTION_OUTBOX_DAYS: z.coerce.number().int().min(1).max(3650).default(7),

  SEED_DEMO_DATA: flag.default(true),

  // OpenTelemetry traces (README, Traces), by the standard variables: off unless OTEL_TRACES_EXPORTER=otlp or an
  // OTLP endpoint is set, and off whatever else is set with OTEL_SDK_DISABLED=true. Spans go over OTLP/HTTP
  // (protobuf) to the traces endpoint, else to the endpoint + /v1/traces, else to http://localhost:4318/v1/traces.
  // The exporter and the SDK read the rest of their standard variables themselves (OTEL_EXPORTER_OTLP_HEADERS,
  // _TIMEOUT, _COMPRESSION, OTEL_TRACES_SAMPLER, OTEL_BSP_*, OTEL_RESOURCE_ATTRIBUTES).
  OTEL_SDK_DISABLED: z
    .string()
    .transform((v) => v.trim().toLowerCase())
    .pipe(z.enum(['true', 'false']))
    .transform((v) => v === 'true')
    .default(false),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.literal('http/protobuf', 'only http/protobuf is built in').optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.literal('http/protobuf', 'only http/protobuf is built in').optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),

  // How long a REST or gRPC call waits for a workflow to answer (start, update, query) before it answers
  // 503 / UNAVAILABLE, safe to retry with the same request; and when a confirmed hold still open is reported.
  WORKFLOW_ANSWER_DEADLINE_MS: z.coerce.number().int().min(500).max(120_000).default(10_000),
  CONFIRMED_HOLD_REPORT_AFTER_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(168),

  // Bearer JWTs on REST and gRPC (README, Security model). The key set comes from the identity provider's
  // JWKS URL, or from a file (the development issuer `npm start` creates); the REST and gRPC servers refuse
  // to start with neither. Issuer and audience default to the development issuer's only with a file.
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  AUTH_JWKS_FILE: z.string().min(1).optional(),
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1).optional(),
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  AUTH_ORGANIZATION_CLAIM: z.string().min(1).default('org_id'),
  AUTH_ROLES_CLAIM: z.string().min(1).default('roles'),
  AUTH_WAREHOUSES_CLAIM: z.string().min(1).default('warehouses'),
  AUTH_NAME_CLAIM: z.string().min(1).default('name'),
  // Development only (refused when NODE_ENV=production): read tokens' claims without checking signatures.
  AUTH_VERIFY_SIGNATURES: flag.default(true),
  NODE_ENV: z.string().optional(),
});

type ParsedConfig = z.infer<typeof schema>;
/** The configuration, with the owner's and the system role's URLs derived from DATABASE_URL when unset. */
export type Config = ParsedConfig & { DATABASE_OWNER_URL: string; DATABASE_SYSTEM_URL: string };

function withDerivedDatabaseUrls(config: ParsedConfig): Config {
  return {
    ...config,
    DATABASE_OWNER_URL: config.DATABASE_OWNER_URL ?? urlForRole(config.DATABASE_URL, 'owner'),
    DATABASE_SYSTEM_URL: config.DATABASE_SYSTEM_URL ?? urlForRole(config.DATABASE_URL, 'system'),
  };
}

/**
 * Row-level security holds only when the service does not connect as the owner (or as the system role,
 * which bypasses it): the three URLs must name three different users.
 */
function refuseSharedDatabaseUsers(config: ParsedConfig, ctx: z.RefinementCtx): void {
  // A malformed URL has been reported already.
  if (!URL.canParse(String(config.DATABASE_URL))) return;
  const derived = withDerivedDatabaseUrls(config);
  const user = (url: string) => decodeURIComponent(new URL(url).username);
  const runtime = user(derived.DATABASE_URL);
  for (const name of ['DATABASE_OWNER_URL', 'DATABASE_SYSTEM_URL'] as const) {
    if (user(derived[name]) !== runtime) continue;
    const message = `its user ${runtime} is DATABASE_URL's too: the runtime role must be a role of its own`;
    ctx.addIssue({ code: 'custom', path: [name], message });
  }
  if (user(derived.DATABASE_OWNER_URL) === user(derived.DATABASE_SYSTEM_URL)) {
    ctx.addIssue({ code: 'custom', path: ['DATABASE_SYSTEM_URL'], message: "its user is DATABASE_OWNER_URL's too" });
  }
}

/** The ports of the parts' metrics and health endpoints (README, Metrics). */
export const metricsPorts = [
  'GRPC_METRICS_PORT',
  'WORKER_METRICS_PORT',
  'RELAY_METRICS_PORT',
  'CONSUMER_METRICS_PORT',
  'WORKER_HEALTH_PORT',
] as const;

/** `npm start` runs every part on one machine: two parts given one port would leave one of them unscraped (or unprobed). */
function refuseSharedPorts(config: ParsedConfig, ctx: z.RefinementCtx): void {
  const taken = new Map<number, string>([
    [config.HTTP_PORT, 'HTTP_PORT'],
    [config.GRPC_PORT, 'GRPC_PORT'],
  ]);
  for (const name of metricsPorts) {
    const value = config[name];
    if (value === 0) continue;
    const other = taken.get(value);
    if (other) ctx.addIssue({ code: 'custom', path: [name], message: `port ${value} is ${other}'s too` });
    else taken.set(value, name);
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses and validates the environment; throws ConfigError naming every bad variable and why. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.superRefine(refuseSharedPorts).superRefine(refuseSharedDatabaseUsers).safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = env[name];
      return `${name}=${JSON.stringify(value ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return withDerivedDatabaseUrls(parsed.data);
}

/**
 * How to reach Temporal, through Temporal's own environment configuration (@temporalio/envconfig), so
 * the same build talks to the dev server, a self-hosted cluster with mTLS or Temporal Cloud:
 * TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE as validated above, plus TEMPORAL_API_KEY, TEMPORAL_TLS,
 * TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH (or _DATA), TEMPORAL_TLS_SERVER_CA_CERT_PATH,
 * TEMPORAL_TLS_SERVER_NAME, TEMPORAL_GRPC_META_*; or a TOML profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE)
 * as the Temporal CLI reads. The CLI's default profile file is read only when one of those two is set,
 * so a developer's cloud profile never redirects a local stack.
 */
export function temporalConnectConfig(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>,
  env: NodeJS.ProcessEnv = process.env,
): ClientConnectConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
  );
  try {
    const loaded = loadClientConnectConfig({
      disableFile: !present.TEMPORAL_CONFIG_FILE && !present.TEMPORAL_PROFILE,
      ...(present.TEMPORAL_PROFILE ? { profile: present.TEMPORAL_PROFILE } : {}),
      overrideEnvVars: {
        ...present,
        TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
        TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
      },
    });
    return {
      namespace: loaded.namespace ?? config.TEMPORAL_NAMESPACE,
      connectionOptions: {
        ...loaded.connectionOptions,
        address: loaded.connectionOptions.address ?? config.TEMPORAL_ADDRESS,
      },
    };
  } catch (error) {
    throw new ConfigError(`invalid Temporal connection settings: ${(error as Error).message}`);
  }
}
