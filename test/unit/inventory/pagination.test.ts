import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../../../services/inventory/errors.ts';
import { decodeCursor, encodeCursor, toPage } from '../../../services/inventory/pagination.ts';

describe('keyset pagination cursors', () => {
  it('decode to the key they were made from', () => {
    const key = ['2026-11-30T10:00:00.123456Z', randomUUID(), 'BIN-A1'];
    assert.deepEqual(decodeCursor(encodeCursor(key), ['timestamp', 'uuid', 'text']), key);
  });

  it("refuse, as the caller's mistake, a cursor this service did not issue", () => {
    const refused = (cursor: string, shape: Parameters<typeof decodeCursor>[1]) =>
      assert.throws(() => decodeCursor(cursor, shape), InvalidArgumentError, cursor);
    refused('not base64 json', ['uuid']);
    refused(encodeCursor([randomUUID()]), ['uuid', 'uuid']);
    refused(encodeCursor(['not-a-uuid']), ['uuid']);
    refused(encodeCursor(['0000-01-01T00:00:00Z']), ['timestamp']);
    refused(encodeCursor(['2026-11-30 10:00:00']), ['timestamp']);
    refused(encodeCursor(['a\u0000b']), ['text']);
    refused(Buffer.from(JSON.stringify([1])).toString('base64url'), ['text']);
  });

  it('toPage keeps `limit` rows and names the last one only when more follow', () => {
    const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const full = toPage(
      rows,
      2,
      (row) => [row.id],
      (row) => row.id.toUpperCase(),
    );
    assert.deepEqual(full.items, ['A', 'B']);
    assert.deepEqual(decodeCursor(full.nextCursor ?? '', ['text']), ['b']);
    assert.deepEqual(
      toPage(
        rows,
        3,
        (row) => [row.id],
        (row) => row.id,
      ),
      { items: ['a', 'b', 'c'], nextCursor: null },
    );
    assert.deepEqual(
      toPage(
        [],
        3,
        () => [],
        (row) => row,
      ),
      { items: [], nextCursor: null },
    );
  });
});
