import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { restWithWorker } from '../helpers/http.ts';
import { bearerFor, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { testStack, tokenFor } from '../helpers/stack.ts';
import {
  restExamples,
  rpcExamples,
  stateOf,
  targetOrganization,
  type RestExample,
  type Target,
} from '../helpers/surface.ts';
import { waitFor } from '../helpers/wait.ts';
import { eventsBySource, startPrivateConsumer, type PrivateConsumer, type SourceName } from '../helpers/consumer.ts';
import { present } from '../helpers/present.ts';

/**
 * A bounded, seeded fuzz of every edge: malformed REST requests on every documented operation,
 * malformed gRPC requests on every RPC, malformed messages on every consumed queue. Each mutation makes
 * its request invalid, so each must get a client error (4xx problem+json; a gRPC client code; a
 * dead-lettered or refused message), none a server error or no answer, and nothing may change: the
 * target organization's state and its running workflows are the same before and after.
 * FUZZ_SEED picks another sequence; a failure prints the seed and the request to replay it.
 */
const seed = Number(process.env.FUZZ_SEED ?? 20261130);

/** mulberry32: a small, fast PRNG whose sequence a seed fixes. */
function prng(state: number) {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const craftedCursors = [
  Buffer.from('["x","y"]').toString('base64url'),
  Buffer.from('[1,2]').toString('base64url'),
  Buffer.from('["0000-01-01T00:00:00Z","00000000-0000-0000-0000-000000000000"]').toString('base64url'),
  Buffer.from('{"a":1}').toString('base64url'),
  Buffer.from('["a\\u0000b"]').toString('base64url'),
  'not base64 at all!',
  'null',
  'x'.repeat(5000),
];
const badIds = ['not-a-uuid', '%E0%A4%A', '%00', 'x'.repeat(3000), '%FF%FE', '1', 'null', '..%2F..%2Fetc'];
const badTimestamps = [
  '0000-01-01T00:00:00Z',
  '2026-13-45T00:00:00Z',
  'yesterday',
  '99999-01-01T00:00:00Z',
  '2026-01-01T25:61:00Z',
];
const nul = 'a\u0000b';

function pick<T>(random: () => number, values: readonly T[]): T {
  // Not present(): null is one of the values to pick.
  const index = Math.floor(random() * values.length);
  assert.ok(index < values.length, 'a value to pick from');
  return values[index] as T;
}

/** A value of the wrong kind for the one it replaces, so any schema behind the edge refuses it. */
function wrongValue(random: () => number, original: unknown, path: string): unknown {
  // Order and purchase-order ids are other services' free text: any string is one, so only the string mutations apply.
  if (/_id$/.test(path) && !/(^|\.)(order_id|purchase_order_id)$/.test(path) && typeof original === 'string')
    return pick(random, ['not-a-uuid', nul, 42, null, 'x'.repeat(100_000)]);
  if (typeof original === 'string') return pick(random, [nul, 'x'.repeat(100_000), 42, null, [], {}]);
  if (typeof original === 'number') return pick(random, [1.5, 1e12, -1e12, '5', null, true, {}]);
  if (typeof original === 'boolean') return pick(random, ['yes', 1, null]);
  if (Array.isArray(original)) return pick(random, ['x', {}, [], Array.from({ length: 600 }, () => original[0])]);
  return pick(random, ['x', 1, null, []]);
}

/** The leaves of a JSON value, as paths (a.b[0].c) with their values. */
function leaves(value: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(value)) return [[path, value], ...value.flatMap((v, i) => leaves(v, `${path}[${i}]`))];
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
  return [[path, value]];
}

function setAt(value: unknown, path: string, replacement: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let node: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[present(parts.at(-1), `a last part of ${path}`)] = replacement;
  return copy;
}

interface RestCase {
  what: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

function restCase(
  random: () => number,
  method: string,
  path: string,
  op: { parameters?: { in: string; name: string }[]; requestBody?: unknown },
  example: RestExample,
): RestCase | undefined {
  const query = { ...example.query };
  const params = { ...example.params };
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  let body: string | undefined = example.body === undefined ? undefined : JSON.stringify(example.body);
  const queryNames = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
  const kinds = [
    ...(Object.keys(params).length > 0 ? ['path'] : []),
    ...(queryNames.length > 0 ? ['query-unknown', 'query-value'] : []),
    ...(op.requestBody ? ['body-field', 'body-unknown', 'body-shape', 'body-encoding'] : []),
    ...(method !== 'get' ? ['content-type', 'idempotency-key'] : []),
  ];
  if (kinds.length === 0) return undefined;
  const kind = pick(random, kinds);
  let what = kind;
  switch (kind) {
    case 'path': {
      const name = pick(random, Object.keys(params));
      params[name] = pick(random, badIds);
      what = `path ${name}=${present(params[name], `the ${name} parameter`).slice(0, 40)}`;
      break;
    }
    case 'query-unknown':
      query.zzz_unknown = '1';
      break;
    case 'query-value': {
      const name = pick(random, queryNames);
      query[name] =
        name === 'cursor'
          ? pick(random, craftedCursors)
          : name === 'limit'
            ? pick(random, ['-1', '0', '100000', 'abc', '1.5'])
            : /^(at|from|to|created_from|created_to)$/.test(name)
              ? pick(random, badTimestamps)
              : /^(order_id|purchase_order_id)$/.test(name)
                ? // Other services' free text: any short string is one, so only the unacceptable ones apply.
                  pick(random, [nul, 'x'.repeat(3000)])
                : /_id$/.test(name)
                  ? pick(random, ['not-a-uuid', nul, 'x'.repeat(3000)])
                  : pick(random, ['bogus-value-\u0000', nul]);
      what = `query ${name}=${JSON.stringify(query[name]).slice(0, 60)}`;
      break;
    }
    case 'body-field': {
      const [leaf, value] = pick(
        random,
        leaves(example.body).filter(([p]) => p !== ''),
      );
      const replacement = wrongValue(random, value, leaf);
      body = JSON.stringify(setAt(example.body, leaf, replacement));
      what = `body ${leaf}=${JSON.stringify(replacement)?.slice(0, 60)}`;
      break;
    }
    case 'body-unknown':
      body = JSON.stringify({ ...(example.body as object), zzz_unknown: true });
      break;
    case 'body-shape':
      body = pick(random, [
        '[]',
        '"text"',
        '42',
        'null',
        '{"a":',
        '['.repeat(3000) + ']'.repeat(3000),
        '{"__proto__":{"x":1}}',
        JSON.stringify({ a: 'x'.repeat(1_100_000) }),
      ]);
      what = `body ${body.slice(0, 30)}`;
      break;
    case 'body-encoding': {
      const [header, value] = pick(random, [
        ['Content-Type', 'application/json; charset=klingon'],
        ['Content-Encoding', 'bogus'],
        ['Content-Encoding', 'gzip'],
      ] as const);
      headers[header] = value;
      what = `${header}: ${value}`;
      break;
    }
    case 'content-type':
      headers['Content-Type'] = pick(random, ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']);
      body = body ?? '{}';
      what = `Content-Type ${headers['Content-Type']}`;
      break;
    case 'idempotency-key':
      headers['Idempotency-Key'] = pick(random, ['a b', 'x'.repeat(201), '']);
      if (headers['Idempotency-Key'] === '') headers['Idempotency-Key'] = ' ';
      break;
  }
  const search = Object.keys(query).length > 0 ? `?${new URLSearchParams(query)}` : '';
  // Garbage path parameters go in raw: the point is what the server makes of them.
  const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => present(params[name], `the ${name} parameter`)) + search;
  return { what: `${method.toUpperCase()} ${path}: ${what}`, method: method.toUpperCase(), url, headers, body };
}

/** Field-aware mutations of a valid RPC request, each one invalid whatever the rest holds. */
function rpcMutations(request: Record<string, unknown>): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  const variant = (what: string, change: Record<string, unknown>) => out.push([what, { ...request, ...change }]);
  for (const [field, value] of Object.entries(request)) {
    if (field === 'order_id')
      for (const v of ['', 'x'.repeat(201), nul]) variant(`${field}=${JSON.stringify(v).slice(0, 20)}`, { [field]: v });
    else if (/_id$/.test(field))
      for (const v of ['not-a-uuid', nul, 'x'.repeat(300)])
        variant(`${field}=${JSON.stringify(v).slice(0, 20)}`, { [field]: v });
    else if (field === 'ttl_seconds') for (const v of [-1, 8 * 24 * 3600]) variant(`${field}=${v}`, { [field]: v });
    else if (field === 'reason')
      for (const v of ['x'.repeat(600), nul]) variant(`${field}=${JSON.stringify(v).slice(0, 20)}`, { [field]: v });
    else if (field === 'items' && Array.isArray(value)) {
      const first = value[0] as Record<string, unknown>;
      variant('items=[]', { items: [] });
      variant('items×600', { items: Array.from({ length: 600 }, () => first) });
      for (const v of [0, -5]) variant(`items[0].quantity=${v}`, { items: [{ ...first, quantity: v }] });
      variant('items[0].variant_id=not-a-uuid', { items: [{ ...first, variant_id: 'not-a-uuid' }] });
      if ('warehouse_id' in first) variant('items[0].warehouse_id=nul', { items: [{ ...first, warehouse_id: nul }] });
    }
  }
  if ('warehouse_id' in request || 'variant_id' in request) {
    for (const token of craftedCursors.slice(0, 5)) variant(`page_token=${token.slice(0, 20)}`, { page_token: token });
    for (const size of [-1, 100_000]) variant(`page_size=${size}`, { page_size: size });
  }
  if ('variant_id' in request && !('items' in request))
    for (const at of badTimestamps.slice(0, 3)) variant(`from=${at}`, { from: at });
  if ('items' in request && !('order_id' in request))
    variant('preferred_warehouse_id=not-a-uuid', { preferred_warehouse_id: 'not-a-uuid' });
  return out;
}

const serverCodes = new Set([
  grpc.status.OK,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.UNAVAILABLE,
  grpc.status.UNIMPLEMENTED,
  grpc.status.DATA_LOSS,
]);

describe(`fuzz: malformed requests and messages at every edge (seed ${seed})`, function () {
  this.timeout(240_000);
  const rest = restWithWorker();
  let grpcApi: GrpcHarness;
  let target: Target;

  before(async () => {
    grpcApi = await startGrpc({ taskQueue: rest.worker.taskQueue });
    target = await targetOrganization(rest.http, grpcApi);
  });
  after(() => grpcApi?.close());

  async function runningWorkflows(): Promise<number> {
    const { count } = await testStack().temporal.client.workflow.count(
      `OrganizationId = "${target.organizationId}" AND ExecutionStatus = "Running"`,
    );
    return count;
  }

  it('gives every malformed REST and gRPC request a client error, changes nothing and leaves no workflow running', async () => {
    const random = prng(seed);
    const before = await stateOf(target.organizationId);
    const workflowsBefore = await runningWorkflows();
    const token = await tokenFor(target.organizationId);
    const { body: doc } = await rest.http.get('/openapi.json');
    const operations = Object.entries<
      Record<string, { 'x-permission'?: string; parameters?: { in: string; name: string }[]; requestBody?: unknown }>
    >(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => op['x-permission'])
        .map(([method, op]) => ({
          method,
          path,
          op,
          example: present(restExamples(target)[`${method} ${path}`], `an example of ${method} ${path}`),
        })),
    );
    const failures: string[] = [];
    let restSent = 0;
    while (restSent < 700) {
      const { method, path, op, example } = pick(random, operations);
      const c = restCase(random, method, path, op, example);
      if (!c) continue;
      restSent += 1;
      try {
        const response = await fetch(rest.http.url + c.url, {
          method: c.method,
          headers: { ...c.headers, Authorization: `Bearer ${token}` },
          body: c.body,
          signal: AbortSignal.timeout(15_000),
        });
        const text = await response.text();
        if (response.status < 400 || response.status >= 500)
          failures.push(`${c.what} → ${response.status} ${text.slice(0, 160)}`);
        else if (!/application\/problem\+json/.test(response.headers.get('content-type') ?? ''))
          failures.push(`${c.what} → ${response.status} without problem+json`);
      } catch (error) {
        failures.push(`${c.what} → no answer (${(error as Error).message})`);
      }
    }

    const rpcCases = Object.entries(rpcExamples(target)).flatMap(([rpc, request]) =>
      rpcMutations(request as Record<string, unknown>).map(([what, mutated]) => ({ rpc, what, mutated })),
    );
    let rpcSent = 0;
    while (rpcSent < 350) {
      const { rpc, what, mutated } =
        rpcSent < rpcCases.length ? present(rpcCases[rpcSent], 'an RPC case') : pick(random, rpcCases);
      rpcSent += 1;
      const metadata = await bearerFor(target, token);
      const code = await grpcApi.call(rpc as never, mutated, metadata).then(
        () => grpc.status.OK,
        (e: grpc.ServiceError) => e.code,
      );
      if (serverCodes.has(code)) failures.push(`${rpc} ${what} → ${grpc.status[code]}`);
    }

    assert.deepEqual(
      failures,
      [],
      `seed ${seed}: ${failures.length} of ${restSent + rpcSent} malformed requests were not refused as the client's mistake`,
    );
    assert.ok(restSent + rpcSent >= 1000);
    assert.deepEqual(await stateOf(target.organizationId), before, 'nothing changed');
    assert.equal(await runningWorkflows(), workflowsBefore, 'no workflow was left running');
  });

  describe('on every consumed queue', () => {
    let consumer: PrivateConsumer;
    before(async () => {
      consumer = await startPrivateConsumer('fuzz', rest.worker.taskQueue);
    });
    after(() => consumer?.close());

    it('dead-letters (or refuses) every malformed message and changes nothing', async () => {
      const random = prng(seed + 1);
      const before = await stateOf(target.organizationId);
      const valid: Record<string, Record<string, unknown>> = {
        'order.confirmed': { order_id: target.orderId },
        'order.cancelled': { order_id: target.orderId, reason: 'fuzz' },
        'order.shipped': { order_id: target.orderId },
        'order.returned': {
          order_id: target.orderId,
          items: [{ variant_id: target.variantId, warehouse_id: target.warehouseId, quantity: 1 }],
        },
        'catalog.variant.created': { variant_id: randomUUID() },
        'catalog.variant.deleted': { variant_id: target.variantId },
        'purchase_order.created': {
          purchase_order_id: 'PO-fuzz',
          warehouse_id: target.warehouseId,
          items: [{ variant_id: target.variantId, quantity: 1 }],
        },
      };
      const channel = await consumer.broker.createConfirmChannel();
      const sent: { id: string; what: string }[] = [];
      for (const [source, events] of Object.entries(eventsBySource) as [SourceName, readonly string[]][]) {
        for (const event of events) {
          // A fresh event id for each message, so no inbox entry can hide a later one.
          const envelope = () => ({
            event,
            event_id: randomUUID(),
            organization_id: target.organizationId,
            version: '1.0',
            data: present(valid[event], `a valid ${event}`),
          });
          const bodies: [string, string][] = [
            ['not JSON', '{"event":'],
            ['null', 'null'],
            ['an array', '[]'],
            ['no event_id', JSON.stringify({ ...envelope(), event_id: undefined })],
            ['organization_id not a uuid', JSON.stringify({ ...envelope(), organization_id: 'acme' })],
            ['no data', JSON.stringify({ ...envelope(), data: undefined })],
            ['a NUL in event_id', JSON.stringify({ ...envelope(), event_id: nul })],
          ];
          for (const [leaf, value] of leaves(valid[event]).filter(([p]) => p !== '')) {
            for (let round = 0; round < 2; round += 1) {
              const wrong = wrongValue(random, value, leaf);
              bodies.push([
                `data.${leaf}=${JSON.stringify(wrong)?.slice(0, 30)}`,
                JSON.stringify({ ...envelope(), data: setAt(valid[event], leaf, wrong) }),
              ]);
            }
          }
          for (const [what, body] of bodies) {
            const id = randomUUID();
            channel.publish(consumer.exchanges[source], event, Buffer.from(body), { messageId: id, persistent: true });
            sent.push({ id, what: `${event}: ${what}` });
          }
        }
      }
      await channel.waitForConfirms();
      await channel.close();
      const deadLettered = new Set<string>();
      const reader = await consumer.broker.createChannel();
      await waitFor(
        async () => {
          for (
            let m = await reader.get(consumer.topology.deadLetterQueue, { noAck: true });
            m;
            m = await reader.get(consumer.topology.deadLetterQueue, { noAck: true })
          )
            deadLettered.add(m.properties.messageId as string);
          return deadLettered.size;
        },
        (n) => n >= sent.length,
        'every malformed message dead-lettered',
        30_000,
      ).catch(() => undefined);
      await reader.close();
      const notDeadLettered = sent.filter((s) => !deadLettered.has(s.id)).map((s) => s.what);
      assert.deepEqual(notDeadLettered, [], `seed ${seed}: malformed messages that were not dead-lettered`);
      assert.ok(sent.length >= 50, `only ${sent.length} malformed messages`);
      assert.deepEqual(await stateOf(target.organizationId), before, 'nothing changed');
    });
  });
});
