import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import type { RateLimitSettings } from './settings.ts';

/** The caller a limit counts: its organization, and its token subject within it. */
export interface RateLimitedCaller {
  organizationId: string;
  subject: string;
}

/** Why a call was refused, and when the caller may try again. */
export interface RateLimitRefusal {
  limit: 'organization' | 'subject';
  /** Calls per window allowed for that key. */
  allowance: number;
  windowSeconds: number;
  retryAfterSeconds: number;
}

/** Admits or refuses one call of a caller; resolves with the refusal, or undefined when admitted. */
export interface RateLimiter {
  admit(caller: RateLimitedCaller): Promise<RateLimitRefusal | undefined>;
}

// How long a process waits for PostgreSQL before it limits alone (see SharedAllowance).
const storeTimeoutMs = 1000;

/**
 * The REST and gRPC rate limiter: per organization and per token subject, both counted in PostgreSQL
 * (table `rate_limit`, rate-limiter-flexible's RateLimiterPostgres) so every process draws on the same
 * allowance, fixed windows of `windowSeconds`. A process takes its share in leases (see SharedAllowance),
 * so a call costs a database round trip only once per lease. Subject first: a noisy client is stopped
 * before it uses up its organization's allowance.
 */
export function createRateLimiter({
  orm,
  logger,
  settings,
}: {
  orm: Orm;
  logger: Logger;
  settings: RateLimitSettings;
}): RateLimiter {
  // The ORM's own pg pool, asked for at the first call: no extra connections, and the sessions' statement_timeout applies.
  const connection = orm.em.getConnection() as unknown as {
    getNativeClient(): Promise<{ query(q: object): Promise<unknown> }>;
  };
  let pool: ReturnType<typeof connection.getNativeClient> | undefined;
  const storeClient = {
    query: async (q: object) => {
      pool ??= connection.getNativeClient();
      return (await pool).query(q);
    },
  };
  const allowance = (name: 'organization' | 'subject', keyPrefix: string) => {
    const points = settings[`${name}PerWindow`];
    if (points <= 0) return undefined;
    const store = new RateLimiterPostgres({
      storeClient,
      storeType: 'pool',
      tableName: 'rate_limit',
      tableCreated: true,
      keyPrefix,
      points,
      duration: settings.windowSeconds,
    });
    const local = new RateLimiterMemory({ keyPrefix, points, duration: settings.windowSeconds });
    const lease = Math.max(1, Math.floor((points * settings.leasePercent) / 100));
    return new SharedAllowance(name, store, local, points, lease, logger);
  };
  const organization = allowance('organization', 'org');
  const subject = allowance('subject', 'sub');
  const refusal = (limit: 'organization' | 'subject', waitMs: number): RateLimitRefusal => ({
    limit,
    allowance: settings[`${limit}PerWindow`],
    windowSeconds: settings.windowSeconds,
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
  return {
    async admit(caller) {
      if (subject) {
        const wait = await subject.take(`${caller.organizationId}:${subjectKey(caller.subject)}`);
        if (wait > 0) return refusal('subject', wait);
      }
      if (organization) {
        const wait = await organization.take(caller.organizationId);
        if (wait > 0) return refusal('organization', wait);
      }
      return undefined;
    },
  };
}

/** Subjects are the identity provider's free text: a long one is hashed to fit the key column. */
function subjectKey(subject: string): string {
  return subject.length <= 150 ? subject : createHash('sha256').update(subject).digest('hex');
}

interface KeyState {
  /** Calls this process may still admit in the current window without asking PostgreSQL. */
  tokens: number;
  /** When the current window ends (epoch ms), as PostgreSQL last said. */
  until: number;
  /** PostgreSQL said the window's allowance is used up (by every process together). */
  exhausted: boolean;
  /** What PostgreSQL said was left after this process's last lease: the next lease takes at most half. */
  remaining: number;
  pending: Promise<void> | undefined;
}

/**
 * One allowance (`points` calls per window per key) shared by every process through PostgreSQL.
 *
 * A process does not spend one database round trip per call: it takes a *lease* of up to `lease` points
 * at once (one atomic upsert that adds them to the key's counter) and admits calls from it locally until
 * it is spent or the window ends; concurrent callers of one key wait for one lease request. The store's
 * answer says how many points the counter held before the lease, so the process keeps only the part of
 * its lease that was still within the allowance. Hence, per key and window:
 *   - never more than `points` calls are admitted across all processes (the counter is the one authority,
 *     and leases expire with the window they were taken in), assuming the processes' clocks agree to
 *     well within a window (the library times windows with each process's clock);
 *   - at least `points − (processes × lease)` calls are admitted when demand exceeds the allowance (a
 *     lease taken but not spent before the window ends is lost); as the window fills, leases shrink to half
 *     of what was left, so near the limit they are small and little is stranded.
 * Once PostgreSQL says a window is used up, the process refuses that key locally until the window ends,
 * as the library's inMemoryBlockOnConsumed does. When PostgreSQL fails or takes longer than a second, the
 * process counts alone (an in-memory limiter with the same allowance, so N processes admit up to N
 * times it) and says so in the log at most once a minute.
 */
class SharedAllowance {
  private readonly states = new Map<string, KeyState>();
  private lastWarning = 0;
  private readonly name: string;
  private readonly store: RateLimiterPostgres;
  private readonly local: RateLimiterMemory;
  private readonly points: number;
  private readonly lease: number;
  private readonly logger: Logger;

  constructor(
    name: string,
    store: RateLimiterPostgres,
    local: RateLimiterMemory,
    points: number,
    lease: number,
    logger: Logger,
  ) {
    this.name = name;
    this.store = store;
    this.local = local;
    this.points = points;
    this.lease = lease;
    this.logger = logger;
  }

  /** Takes one call from the key's allowance: 0 when admitted, else the milliseconds until the window ends. */
  async take(key: string): Promise<number> {
    for (;;) {
      const state = this.stateOf(key);
      const now = Date.now();
      if (state.until <= now && !state.pending)
        Object.assign(state, { tokens: 0, exhausted: false, remaining: this.points });
      if (state.tokens > 0) {
        state.tokens -= 1;
        return 0;
      }
      if (state.exhausted && state.until > now) return state.until - now;
      state.pending ??= this.renew(key, state).finally(() => {
        state.pending = undefined;
      });
      await state.pending;
    }
  }

  private stateOf(key: string): KeyState {
    let state = this.states.get(key);
    if (!state) {
      if (this.states.size >= 10_000) this.forgetEndedWindows();
      state = { tokens: 0, until: 0, exhausted: false, remaining: this.points, pending: undefined };
      this.states.set(key, state);
    }
    return state;
  }

  private async renew(key: string, state: KeyState): Promise<void> {
    const wanted = Math.max(1, Math.min(this.lease, Math.floor(state.remaining / 2)));
    const answer = await this.consume(key, wanted);
    const before = answer.consumedPoints - wanted;
    state.tokens = Math.max(0, Math.min(wanted, this.points - before));
    state.until = Date.now() + Math.max(answer.msBeforeNext, 1);
    state.remaining = Math.max(0, this.points - answer.consumedPoints);
    state.exhausted = answer.consumedPoints >= this.points;
  }

  /** Adds `points` to the key's counter and answers with the counter after it (refused or not). */
  private async consume(key: string, points: number): Promise<RateLimiterRes> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`PostgreSQL did not answer within ${storeTimeoutMs} ms`)),
        storeTimeoutMs,
      );
    });
    try {
      return await Promise.race([this.store.consume(key, points), timeout]);
    } catch (error) {
      if (error instanceof RateLimiterRes) return error;
      this.warn(error);
      try {
        return await this.local.consume(key, points);
      } catch (over) {
        if (over instanceof RateLimiterRes) return over;
        throw over;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private warn(error: unknown): void {
    if (Date.now() - this.lastWarning < 60_000) return;
    this.lastWarning = Date.now();
    this.logger.warn(
      `rate limit (${this.name}): the shared counter in PostgreSQL failed; this process limits alone until it answers`,
      { error: (error as Error).message },
    );
  }

  private forgetEndedWindows(): void {
    const now = Date.now();
    for (const [key, state] of this.states) if (state.until <= now && !state.pending) this.states.delete(key);
  }
}
