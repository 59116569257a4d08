import { loadConfig, type Config } from '../config.ts';

/**
 * The rate limits of the REST and gRPC APIs (README, Limits), as calls allowed per fixed window of
 * `windowSeconds` (the configuration's per-second rate × the window); 0 turns one off.
 */
export interface RateLimitSettings {
  /** Every caller of one organization together. */
  organizationPerWindow: number;
  /** One token subject (a user or a service account) of one organization. */
  subjectPerWindow: number;
  windowSeconds: number;
  /** The most of a window's allowance one process takes from PostgreSQL in one round trip, in percent. */
  leasePercent: number;
}

/** Caps on open holds, checked by ReserveStock before a hold starts; 0 turns one off. */
export interface QuotaSettings {
  activeHoldsPerOrganization: number;
  activeHoldsPerCustomer: number;
}

/** Options of the gRPC server (grpc-js channel arguments). */
export interface GrpcServerSettings {
  maxReceiveMessageBytes: number;
  maxConcurrentStreams: number;
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  /** 0 = no maximum age. */
  maxConnectionAgeMs: number;
  maxConnectionAgeGraceMs: number;
}

/** Every limit the REST and gRPC facades apply, from the configuration. */
export interface Limits {
  rate: RateLimitSettings;
  quotas: QuotaSettings;
  httpBodyLimitBytes: number;
  grpc: GrpcServerSettings;
}

/** Limits for the PostgreSQL sessions of one process; 0 = none. */
export interface DbSessionLimits {
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/** What retention keeps: older rows are pruned by the scheduled retentionWorkflow. */
export interface RetentionSettings {
  idempotencyHours: number;
  inboxDays: number;
  outboxDays: number;
}

type LimitVariables =
  | 'RATE_LIMIT_ORGANIZATION_PER_SECOND'
  | 'RATE_LIMIT_SUBJECT_PER_SECOND'
  | 'RATE_LIMIT_WINDOW_SECONDS'
  | 'RATE_LIMIT_LEASE_PERCENT'
  | 'QUOTA_ACTIVE_HOLDS_PER_ORGANIZATION'
  | 'QUOTA_ACTIVE_HOLDS_PER_CUSTOMER'
  | 'HTTP_BODY_LIMIT_BYTES'
  | 'GRPC_MAX_RECEIVE_MESSAGE_BYTES'
  | 'GRPC_MAX_CONCURRENT_STREAMS'
  | 'GRPC_KEEPALIVE_TIME_MS'
  | 'GRPC_KEEPALIVE_TIMEOUT_MS'
  | 'GRPC_MAX_CONNECTION_AGE_MS'
  | 'GRPC_MAX_CONNECTION_AGE_GRACE_MS';

/** The facades' limits as the configuration sets them. */
export function limitsFrom(config: Pick<Config, LimitVariables>): Limits {
  return {
    rate: {
      organizationPerWindow: config.RATE_LIMIT_ORGANIZATION_PER_SECOND * config.RATE_LIMIT_WINDOW_SECONDS,
      subjectPerWindow: config.RATE_LIMIT_SUBJECT_PER_SECOND * config.RATE_LIMIT_WINDOW_SECONDS,
      windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
      leasePercent: config.RATE_LIMIT_LEASE_PERCENT,
    },
    quotas: {
      activeHoldsPerOrganization: config.QUOTA_ACTIVE_HOLDS_PER_ORGANIZATION,
      activeHoldsPerCustomer: config.QUOTA_ACTIVE_HOLDS_PER_CUSTOMER,
    },
    httpBodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
    grpc: {
      maxReceiveMessageBytes: config.GRPC_MAX_RECEIVE_MESSAGE_BYTES,
      maxConcurrentStreams: config.GRPC_MAX_CONCURRENT_STREAMS,
      keepaliveTimeMs: config.GRPC_KEEPALIVE_TIME_MS,
      keepaliveTimeoutMs: config.GRPC_KEEPALIVE_TIMEOUT_MS,
      maxConnectionAgeMs: config.GRPC_MAX_CONNECTION_AGE_MS,
      maxConnectionAgeGraceMs: config.GRPC_MAX_CONNECTION_AGE_GRACE_MS,
    },
  };
}

export function dbSessionLimitsFrom(
  config: Pick<Config, 'DB_STATEMENT_TIMEOUT_MS' | 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS'>,
): DbSessionLimits {
  return {
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  };
}

export function retentionFrom(
  config: Pick<Config, 'RETENTION_IDEMPOTENCY_HOURS' | 'RETENTION_INBOX_DAYS' | 'RETENTION_OUTBOX_DAYS'>,
): RetentionSettings {
  return {
    idempotencyHours: config.RETENTION_IDEMPOTENCY_HOURS,
    inboxDays: config.RETENTION_INBOX_DAYS,
    outboxDays: config.RETENTION_OUTBOX_DAYS,
  };
}

// The documented defaults (an empty environment): what a facade built without explicit limits applies.
const defaults = loadConfig({});

/** The facades' limits when nothing is configured. */
export function defaultLimits(): Limits {
  return limitsFrom(defaults);
}

export const defaultDbSessionLimits: DbSessionLimits = dbSessionLimitsFrom(defaults);
