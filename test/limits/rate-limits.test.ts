import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { bearerFor, expectStatus, startGrpc } from '../helpers/grpc.ts';
import { tokenFor } from '../helpers/stack.ts';
import { defaultLimits, type Limits, type RateLimitSettings } from '../../services/limits/settings.ts';

/** The documented limits with these rate limits; a minute's window, so no test straddles two windows. */
function withRates(rate: Partial<RateLimitSettings>): Limits {
  const limits = defaultLimits();
  return { ...limits, rate: { ...limits.rate, windowSeconds: 60, ...rate } };
}

describe('rate limits', function () {
  this.timeout(30_000);
  const opened: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const harness of opened) await harness.close();
  });
  const http = async (rate: Partial<RateLimitSettings>) => {
    const harness = await startHttp({ limits: withRates(rate) });
    opened.push(harness);
    return harness;
  };
  const rpc = async (rate: Partial<RateLimitSettings>) => {
    const harness = await startGrpc({ limits: withRates(rate) });
    opened.push(harness);
    return harness;
  };
  const asSubject = async (organizationId: string, subject: string) => ({
    Authorization: `Bearer ${await tokenFor(organizationId, { subject })}`,
  });
  const list = (harness: HttpHarness, headers: Record<string, string>) =>
    harness.send('GET', '/api/v1/warehouses', { headers });

  it('past its allowance a client gets 429 problem+json with Retry-After, and another client of the organization is still served', async () => {
    const api = await http({ subjectPerWindow: 3, organizationPerWindow: 1000 });
    const organizationId = randomUUID();
    const ana = await asSubject(organizationId, 'ana');
    for (let i = 0; i < 3; i += 1) assert.equal((await list(api, ana)).status, 200);
    const refused = await list(api, ana);
    assert.equal(refused.status, 429);
    assert.equal(refused.contentType, 'application/problem+json; charset=utf-8');
    assert.equal(refused.body.type, 'urn:inventory:problem:RateLimited');
    assert.equal(refused.body.limit, 'subject');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
      `Retry-After: ${refused.headers.get('retry-after')}`,
    );
    assert.equal(refused.body.retry_after_seconds, retryAfter);
    assert.equal((await list(api, await asSubject(organizationId, 'bruno'))).status, 200, 'the limit is per client');
  });

  it('past the organization allowance every client of that organization gets 429, and other organizations are served', async () => {
    const api = await http({ subjectPerWindow: 1000, organizationPerWindow: 4 });
    const organizationId = randomUUID();
    for (const subject of ['ana', 'bruno', 'carla', 'dario'])
      assert.equal((await list(api, await asSubject(organizationId, subject))).status, 200);
    const refused = await list(api, await asSubject(organizationId, 'elena'));
    assert.equal(refused.status, 429);
    assert.equal(refused.body.limit, 'organization');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal((await list(api, await asSubject(randomUUID(), 'ana'))).status, 200);
  });

  it('two API servers, each with its own limiter, share one allowance through PostgreSQL: adding a server does not add calls', async () => {
    const first = await http({ subjectPerWindow: 6, organizationPerWindow: 1000 });
    const second = await http({ subjectPerWindow: 6, organizationPerWindow: 1000 });
    const ana = await asSubject(randomUUID(), 'ana');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await list(first, ana)).status, (await list(second, ana)).status);
    }
    assert.deepEqual(
      statuses,
      [200, 200, 200, 200, 200, 200, 429, 429],
      'six calls in all, whichever server served them',
    );
  });

  it('with leases larger than one call, the two servers together still admit no more than the allowance', async () => {
    // 20 calls allowed; each server takes up to half of it per round trip to PostgreSQL.
    const first = await http({ subjectPerWindow: 20, organizationPerWindow: 1000, leasePercent: 50 });
    const second = await http({ subjectPerWindow: 20, organizationPerWindow: 1000, leasePercent: 50 });
    const ana = await asSubject(randomUUID(), 'ana');
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => list(i % 2 ? first : second, ana)));
    const admitted = answers.filter((a) => a.status === 200).length;
    assert.ok(admitted <= 20, `${admitted} admitted`);
    assert.ok(admitted >= 10, `${admitted} admitted: at most one lease per server may be stranded`);
    assert.ok(answers.every((a) => a.status === 200 || a.status === 429));
  });

  it('over gRPC the call is RESOURCE_EXHAUSTED with a retry-after trailer, and REST and gRPC draw on the same allowance', async () => {
    const api = await rpc({ subjectPerWindow: 3, organizationPerWindow: 1000 });
    const rest = await http({ subjectPerWindow: 3, organizationPerWindow: 1000 });
    const organizationId = randomUUID();
    const token = await tokenFor(organizationId, { subject: 'order-service', roles: ['order-service', 'operator'] });
    const request = { organization_id: organizationId, items: [{ variant_id: randomUUID(), quantity: 1 }] };
    const metadata = await bearerFor(request, token);
    await api.call('CheckAvailability', request, metadata);
    await api.call('CheckAvailability', request, metadata);
    assert.equal(
      (await rest.send('GET', '/api/v1/warehouses', { headers: { Authorization: `Bearer ${token}` } })).status,
      200,
    );
    const refused = await expectStatus(
      api.call('CheckAvailability', request, metadata),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    const retryAfter = Number(refused.metadata.get('retry-after')[0]);
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
      `retry-after: ${refused.metadata.get('retry-after')[0]}`,
    );
    assert.match(refused.details, /too many requests/);
    assert.equal(
      (await rest.send('GET', '/api/v1/warehouses', { headers: { Authorization: `Bearer ${token}` } })).status,
      429,
    );
  });

  it('a limit of 0 is off', async () => {
    const api = await http({ subjectPerWindow: 0, organizationPerWindow: 0 });
    const ana = await asSubject(randomUUID(), 'ana');
    const answers = await Promise.all(Array.from({ length: 30 }, () => list(api, ana)));
    assert.ok(answers.every((a) => a.status === 200));
  });
});
