import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { curableByRetry, invalidDataFrom, toActivityFailure } from '../../activities/failures.ts';
import { createActivities } from '../../activities/index.ts';
import { InsufficientStockError, InvalidDataError, WarehouseNotFoundError } from '../../services/inventory/errors.ts';
import { stepFailureTypes } from '../../workflows/step-failures.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** What PostgreSQL answers `sql` with (run in a transaction of its own, with a scratch table), or undefined when it succeeds. */
async function refusal(sql: string, params: unknown[] = []): Promise<unknown> {
  try {
    await testStack()
      .orm.em.fork()
      .transactional(async (em) => {
        await em.execute('create temp table probe_parent (id int primary key) on commit drop');
        await em.execute(
          'create temp table probe (v varchar(3) not null, n int check (n > 0), parent int references probe_parent (id), u int unique) on commit drop',
        );
        await em.execute('insert into probe (v, n, u) values (?, ?, ?)', ['ok', 1, 1]);
        await em.execute(sql, params);
      });
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('activity failures: what a retry can cure', () => {
  describe('errors no retry can cure become a non-retryable InvalidDataError at once', () => {
    const cases: [string, string, unknown[], string, RegExp][] = [
      [
        'a NUL character in a text parameter (node-postgres sends it; the server cannot read the message)',
        'select ?::text',
        ['a\u0000b'],
        '08P01',
        /NUL character/,
      ],
      [
        'a NUL character in a text literal',
        "select convert_from('\\x6100'::bytea, 'UTF8')",
        [],
        '22021',
        /cannot store/,
      ],
      ['a NUL character in JSON', 'select ?::jsonb', ['{"a": "\\u0000"}'], '22P05', /cannot store/],
      ['a text longer than its column', 'insert into probe (v) values (?)', ['four'], '22001', /longer than/],
      ['a number out of range', 'select 2147483647::int + ?::int', [1], '22003', /out of the range/],
      ['a malformed uuid', 'select ?::uuid', ['not-a-uuid'], '22P02', /not in the form/],
      [
        'a missing required value',
        'insert into probe (v) values (null)',
        [],
        '23502',
        /required value is missing \(v\)/,
      ],
      [
        'a reference to nothing',
        'insert into probe (v, parent) values (?, ?)',
        ['x', 42],
        '23503',
        /refers to a record that does not exist/,
      ],
      ['a broken check constraint', 'insert into probe (v, n) values (?, ?)', ['x', -1], '23514', /breaks a rule/],
    ];
    for (const [what, sql, params, sqlstate, message] of cases) {
      it(`${what} (SQLSTATE ${sqlstate}) as PostgreSQL reports it`, async () => {
        const error = await refusal(sql, params);
        assert.ok(error, 'PostgreSQL refused the statement');
        assert.equal(curableByRetry(error), false);
        const failure = toActivityFailure(error);
        assert.ok(failure instanceof ApplicationFailure);
        assert.equal(failure.type, stepFailureTypes.invalidData);
        assert.equal(failure.nonRetryable, true);
        assert.match(failure.message, message);
        assert.equal(
          present(failure.details?.[0] as { sqlstate: string } | undefined, 'the details').sqlstate,
          sqlstate,
        );
        assert.doesNotMatch(
          failure.message,
          /select|insert|probe/i,
          'the message a caller sees names no SQL and no table',
        );
        assert.equal(failure.cause, error, 'the original error stays in the cause chain, for Temporal UI');
      });
    }

    it('validation errors (zod) are invalid data too', () => {
      const error = Object.assign(new Error('quantity: expected a number'), { name: 'ZodError' });
      assert.equal(invalidDataFrom(error)?.type, 'InvalidDataError');
    });
  });

  describe('races and transient errors stay retryable (rethrown as they are, retried with bounded backoff)', () => {
    it('a unique violation, as PostgreSQL reports it (23505: a concurrent insert won; the retry sees its outcome)', async () => {
      const error = await refusal('insert into probe (v, u) values (?, ?)', ['x', 1]);
      assert.equal((error as { code?: string }).code, '23505');
      assert.equal(curableByRetry(error), true);
      assert.equal(toActivityFailure(error), error);
    });

    for (const [what, code] of [
      ['a serialization failure', '40001'],
      ['a deadlock', '40P01'],
      ['a lock timeout', '55P03'],
      ['a connection lost', '08006'],
      ['an admin shutdown', '57P01'],
    ]) {
      it(`${what} (${code})`, () => {
        const error = Object.assign(new Error(what), { code });
        assert.equal(curableByRetry(error), true);
        assert.equal(toActivityFailure(error), error);
      });
    }

    it('a network error and an unknown error', () => {
      for (const error of [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
        Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
        new Error('something else'),
      ]) {
        assert.equal(curableByRetry(error), true, error.message);
        assert.equal(toActivityFailure(error), error);
      }
    });
  });

  it('domain errors keep their own type and retryability', () => {
    const short = toActivityFailure(
      new InsufficientStockError([{ variant_id: 'v', warehouse_id: null, requested: 2, available: 1 }]),
    );
    assert.ok(short instanceof ApplicationFailure);
    assert.equal(short.type, 'InsufficientStockError');
    assert.equal(short.nonRetryable, true);
    assert.deepEqual(present(short.details?.[0] as { shortages: unknown[] } | undefined, 'the details').shortages, [
      { variant_id: 'v', warehouse_id: null, requested: 2, available: 1 },
    ]);
    assert.equal(
      (toActivityFailure(new WarehouseNotFoundError('gone')) as ApplicationFailure).type,
      'WarehouseNotFoundError',
    );
  });

  it('the failure types the workflows branch on are the domain error class names', () => {
    assert.equal(new InvalidDataError('x').type, stepFailureTypes.invalidData);
  });

  it('the hold activity fed an order id with a NUL character fails with a non-retryable InvalidDataError and holds nothing', async () => {
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(5);
    const activities = createActivities({ orm: testStack().orm, systemOrm: testStack().systemOrm });
    const input = {
      organizationId,
      orderId: `nul-\u0000-${randomUUID()}`,
      reservationId: randomUUID(),
      items: [{ variant_id: variantId, quantity: 2 }],
      ttlSeconds: 60,
    };
    const failure = await new MockActivityEnvironment(undefined, { logger: quiet })
      .run(activities.holdReservationStock, input)
      .then(
        () => assert.fail('the hold succeeded'),
        (error: unknown) => error,
      );
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'InvalidDataError');
    assert.equal(failure.nonRetryable, true);
    assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 5);
  });
});
