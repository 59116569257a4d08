import * as grpc from '@grpc/grpc-js';
import {
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleAll,
  handleWhen,
  retry,
  wrap,
} from 'cockatiel';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.ts';
import type { Config } from '../config.ts';
import { loadCatalogProto } from '../grpc/proto.ts';
import type { ValidateVariantResponse__Output } from '../grpc/generated/catalog/v1/ValidateVariantResponse.ts';

/**
 * The catalog's answer about one variant, and where it came from: a call just made (`catalog`), the
 * cache (`cache`), the cache past its TTL because the catalog could not answer (`stale`), or no answer
 * at all (`degraded`: seed 001's graceful degradation, which lets the operation through).
 */
export interface VariantValidation {
  exists: boolean;
  isActive: boolean;
  tracksInventory: boolean;
  sku?: string;
  productName?: string;
  source: 'catalog' | 'cache' | 'stale' | 'degraded';
}

/** What /ready shows of the catalog: down while the circuit breaker is open or half-open. */
export interface CatalogState {
  status: 'up' | 'down';
  breaker: 'closed' | 'open' | 'half_open';
  detail?: string;
  last_failure?: { at: string; error: string };
}

export interface CatalogClient {
  /** Never rejects because of the catalog: a failure answers `stale` or `degraded` instead. */
  validateVariant(organizationId: string, variantId: string): Promise<VariantValidation>;
  state(): CatalogState;
  close(): void;
}

export interface CatalogClientOptions {
  /** host:port of the catalog's gRPC API. */
  address: string;
  logger: Logger;
  /** Deadline of each attempt. */
  deadlineMs?: number;
  cacheTtlMs?: number;
  /** Opens after this many consecutive failed attempts; lets one trial call through `halfOpenAfterMs` later. */
  breaker?: { consecutiveFailures: number; halfOpenAfterMs: number };
  /** Attempts per lookup, counting the first; only UNAVAILABLE and DEADLINE_EXCEEDED are retried. */
  retry?: { maxAttempts: number };
}

type Answer = Omit<VariantValidation, 'source'>;
interface Entry {
  answer: Answer;
  fetchedAt: number;
}
interface Lookup {
  organizationId: string;
  variantId: string;
}

const retryableCodes = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);
const degraded: VariantValidation = { exists: true, isActive: true, tracksInventory: true, source: 'degraded' };
const breakerStates: Record<CircuitState, CatalogState['breaker']> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'open',
};

/**
 * A client for the catalog's ValidateVariant with a deadline per attempt, retries with exponential
 * backoff, a circuit breaker that counts every failed attempt, and a cache by (organization, variant).
 * Concurrent lookups of one variant share one call. While the catalog cannot answer, a cached answer
 * is served past its TTL, and a variant never asked is let through (`degraded`), warned once per outage.
 */
export function createCatalogClient(options: CatalogClientOptions): CatalogClient {
  const { logger, deadlineMs = 2000, cacheTtlMs = 5 * 60_000 } = options;
  const { consecutiveFailures, halfOpenAfterMs } = options.breaker ?? {
    consecutiveFailures: 5,
    halfOpenAfterMs: 30_000,
  };
  const maxAttempts = options.retry?.maxAttempts ?? 3;

  const { CatalogService } = loadCatalogProto().catalog.v1;
  const client = new CatalogService(options.address, grpc.credentials.createInsecure(), {
    // The retries are the policy's below, so that the breaker sees every attempt.
    'grpc.enable_retries': 0,
    // Reconnect at least as often as the breaker tries again, so its trial call finds a fresh connection.
    'grpc.initial_reconnect_backoff_ms': Math.min(1000, halfOpenAfterMs),
    'grpc.max_reconnect_backoff_ms': halfOpenAfterMs,
  });

  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(consecutiveFailures),
  });
  // cockatiel's maxAttempts counts the retries after the first attempt.
  const retries = retry(handleWhen(isRetryable), {
    maxAttempts: maxAttempts - 1,
    backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }),
  });
  // Retry outside the breaker: once it opens, the next attempt fails at once with BrokenCircuitError, which is not retried.
  const policy = wrap(retries, breaker);
  const closing = new AbortController();

  let lastFailure: CatalogState['last_failure'];
  let openedAt: Date | undefined;
  let warnedOutage = false;
  breaker.onBreak(() => {
    openedAt = new Date();
    logger.error(
      `catalog circuit breaker opened after ${consecutiveFailures} consecutive failed attempts (${lastFailure?.error}); trying again in ${halfOpenAfterMs} ms`,
    );
  });
  breaker.onHalfOpen(() => logger.info('catalog circuit breaker half-open: one trial call goes through'));
  breaker.onReset(() => {
    openedAt = undefined;
    logger.info('catalog circuit breaker closed: the catalog answers again');
  });

  function callOnce({ organizationId, variantId }: Lookup): Promise<ValidateVariantResponse__Output> {
    return new Promise((resolve, reject) => {
      client.ValidateVariant(
        { organization_id: organizationId, variant_id: variantId },
        { deadline: Date.now() + deadlineMs },
        (error, response) => {
          if (error || !response) {
            lastFailure = { at: new Date().toISOString(), error: error?.message ?? 'empty response' };
            reject(error ?? new Error('empty response'));
          } else resolve(response);
        },
      );
    });
  }

  const cache = new LRUCache<string, Entry, Lookup>({
    max: 10_000,
    ttl: cacheTtlMs,
    // A failed refresh keeps the old answer and returns it; with none, fetch() resolves undefined.
    allowStaleOnFetchRejection: true,
    noDeleteOnFetchRejection: true,
    fetchMethod: async (_key, _stale, { context }) => {
      const response = await policy.execute(() => callOnce(context), closing.signal);
      warnedOutage = false;
      return {
        fetchedAt: performance.now(),
        answer: {
          exists: response.exists,
          isActive: response.is_active,
          tracksInventory: response.tracks_inventory,
          sku: response.sku || undefined,
          productName: response.product_name || undefined,
        },
      };
    },
  });

  return {
    async validateVariant(organizationId, variantId) {
      const started = performance.now();
      const status: LRUCache.Status<string, Entry, Lookup> = {};
      const entry = await cache.fetch(`${organizationId}/${variantId}`, {
        context: { organizationId, variantId },
        status,
      });
      if (entry && status.fetch === 'hit') return { ...entry.answer, source: 'cache' };
      // Not a hit, so a call was needed: an answer older than this lookup means that call failed.
      if (entry && entry.fetchedAt >= started) return { ...entry.answer, source: 'catalog' };
      if (!warnedOutage) {
        warnedOutage = true;
        logger.warn(
          `the catalog cannot answer (${lastFailure?.error ?? 'unknown error'}): serving cached answers past their TTL and letting variants never asked through unchecked until it is back`,
        );
      }
      return entry ? { ...entry.answer, source: 'stale' } : degraded;
    },

    state() {
      const breakerState = breakerStates[breaker.state];
      if (breakerState === 'closed')
        return { status: 'up', breaker: breakerState, ...(lastFailure && { last_failure: lastFailure }) };
      const next =
        breakerState === 'half_open'
          ? 'a trial call is in flight'
          : `the first lookup ${halfOpenAfterMs} ms after it opened tries the catalog again`;
      return {
        status: 'down',
        breaker: breakerState,
        detail: `the catalog is not answering (circuit open since ${openedAt?.toISOString()}): variants are checked against cached answers, or let through unchecked; ${next}`,
        last_failure: lastFailure,
      };
    },

    close() {
      closing.abort();
      client.close();
    },
  };
}

function isRetryable(error: unknown): boolean {
  const code = (error as Partial<grpc.ServiceError> | undefined)?.code;
  return code !== undefined && retryableCodes.has(code);
}

/** The client the configuration asks for, or none (validation off, said once at start) without CATALOG_GRPC_ADDRESS. */
export function catalogClientFromConfig(
  config: Pick<
    Config,
    | 'CATALOG_GRPC_ADDRESS'
    | 'CATALOG_DEADLINE_MS'
    | 'CATALOG_CACHE_TTL_SECONDS'
    | 'CATALOG_BREAKER_FAILURES'
    | 'CATALOG_BREAKER_RESET_MS'
  >,
  logger: Logger,
): CatalogClient | undefined {
  if (!config.CATALOG_GRPC_ADDRESS) {
    logger.info(
      'CATALOG_GRPC_ADDRESS is not set: variants are not validated against the catalog before stock is created for them',
    );
    return undefined;
  }
  logger.info(`validating new variants against the catalog at ${config.CATALOG_GRPC_ADDRESS}`);
  return createCatalogClient({
    address: config.CATALOG_GRPC_ADDRESS,
    logger,
    deadlineMs: config.CATALOG_DEADLINE_MS,
    cacheTtlMs: config.CATALOG_CACHE_TTL_SECONDS * 1000,
    breaker: { consecutiveFailures: config.CATALOG_BREAKER_FAILURES, halfOpenAfterMs: config.CATALOG_BREAKER_RESET_MS },
  });
}
