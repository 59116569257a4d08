import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../services/config.ts';
import { dbSessionLimitsFrom, defaultLimits, limitsFrom, retentionFrom } from '../../../services/limits/settings.ts';

describe('limit settings', () => {
  it('default to limits generous enough for the benchmark, all on', () => {
    const limits = defaultLimits();
    assert.deepEqual(limits.rate, {
      organizationPerWindow: 10_000,
      subjectPerWindow: 5_000,
      windowSeconds: 1,
      leasePercent: 5,
    });
    assert.deepEqual(limits.quotas, { activeHoldsPerOrganization: 100_000, activeHoldsPerCustomer: 1_000 });
    assert.equal(limits.httpBodyLimitBytes, 1024 * 1024);
    assert.equal(limits.grpc.maxReceiveMessageBytes, 1024 * 1024);
    assert.deepEqual(dbSessionLimitsFrom(loadConfig({})), {
      statementTimeoutMs: 15_000,
      idleInTransactionTimeoutMs: 60_000,
    });
    assert.deepEqual(retentionFrom(loadConfig({})), { idempotencyHours: 48, inboxDays: 14, outboxDays: 7 });
    assert.equal(loadConfig({}).RETENTION_CRON, '17 * * * *');
  });

  it('count a rate per window: the per-second rate times the window', () => {
    const limits = limitsFrom(
      loadConfig({
        RATE_LIMIT_ORGANIZATION_PER_SECOND: '50',
        RATE_LIMIT_SUBJECT_PER_SECOND: '0',
        RATE_LIMIT_WINDOW_SECONDS: '10',
      }),
    );
    assert.deepEqual(limits.rate, {
      organizationPerWindow: 500,
      subjectPerWindow: 0,
      windowSeconds: 10,
      leasePercent: 5,
    });
  });

  it('refuse nonsense naming the variable', () => {
    assert.throws(
      () =>
        loadConfig({
          RATE_LIMIT_SUBJECT_PER_SECOND: '-1',
          RATE_LIMIT_WINDOW_SECONDS: '0',
          GRPC_MAX_RECEIVE_MESSAGE_BYTES: '10',
          RETENTION_CRON: 'hourly',
          DB_STATEMENT_TIMEOUT_MS: 'soon',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        for (const name of [
          'RATE_LIMIT_SUBJECT_PER_SECOND',
          'RATE_LIMIT_WINDOW_SECONDS',
          'GRPC_MAX_RECEIVE_MESSAGE_BYTES',
          'RETENTION_CRON',
          'DB_STATEMENT_TIMEOUT_MS',
        ]) {
          assert.match(error.message, new RegExp(`${name}=`));
        }
        return true;
      },
    );
  });
});
