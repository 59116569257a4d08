import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { requestFingerprint } from '../../services/inventory/reservations/request-fingerprint.ts';

describe('reservation request fingerprint (pure)', () => {
  it('is the SHA-256 of the canonical lines and preferred warehouse, as stored by earlier versions', async () => {
    const request = {
      items: [
        { variant_id: 'b', quantity: 1 },
        { variant_id: 'a', quantity: 2, warehouse_id: 'w' },
      ],
      preferredWarehouseId: 'p',
    };
    const canonical = JSON.stringify([
      [
        { variant_id: 'a', quantity: 2, warehouse_id: 'w' },
        { variant_id: 'b', quantity: 1 },
      ],
      'p',
    ]);
    assert.equal(await requestFingerprint(request), createHash('sha256').update(canonical).digest('hex'));
  });

  it('is the same for lines reordered or split, and differs for other quantities or preferences', async () => {
    const one = await requestFingerprint({
      items: [
        { variant_id: 'a', quantity: 3 },
        { variant_id: 'b', quantity: 1 },
      ],
    });
    assert.equal(
      await requestFingerprint({
        items: [
          { variant_id: 'b', quantity: 1 },
          { variant_id: 'a', quantity: 1 },
          { variant_id: 'a', quantity: 2 },
        ],
      }),
      one,
    );
    assert.notEqual(
      await requestFingerprint({
        items: [
          { variant_id: 'a', quantity: 4 },
          { variant_id: 'b', quantity: 1 },
        ],
      }),
      one,
    );
    assert.notEqual(
      await requestFingerprint({
        items: [
          { variant_id: 'a', quantity: 3 },
          { variant_id: 'b', quantity: 1 },
        ],
        preferredWarehouseId: 'p',
      }),
      one,
    );
  });

  it('hashes text beyond ASCII as UTF-8, like the digest it replaces', async () => {
    const request = { items: [{ variant_id: 'é-😀', quantity: 1 }] };
    const canonical = JSON.stringify([[{ variant_id: 'é-😀', quantity: 1 }], null]);
    assert.equal(await requestFingerprint(request), createHash('sha256').update(canonical).digest('hex'));
  });
});
