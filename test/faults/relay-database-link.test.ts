import assert from 'node:assert/strict';
import { openOrm, type Orm } from '../../services/db/orm.ts';
import type { OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import { bindEventQueue, type EventQueue } from '../helpers/amqp.ts';
import { testStack } from '../helpers/stack.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { sleep } from '../helpers/wait.ts';
import { ledgerStream, startRelay } from './event-checks.ts';
import { proxyInFront } from './links.ts';

/** Past the relay's poll interval many times over, and long enough for its leader session to be seen gone. */
const outageMs = 5000;

describe("faults: the relay's PostgreSQL link fails (a TCP proxy between the relay and the database)", function () {
  this.timeout(120_000);
  let proxy: TcpProxy | undefined;
  let orm: Orm | undefined;
  let relay: OutboxRelay | undefined;
  let queue: EventQueue | undefined;

  afterEach(async () => {
    proxy?.refuse(false);
    await relay?.stop();
    await queue?.close();
    await orm?.close(true);
    await proxy?.close();
    proxy = orm = relay = queue = undefined;
  });

  it("relay's PostgreSQL connections, its leader session's included, cut and refused for 5 s while ledger operations keep writing events: it stands down, takes the lead again once the database answers, and the broker gets every outbox row at least once, each stock row's events in order, all marked published", async () => {
    const stack = testStack();
    queue = await bindEventQueue();
    const proxied = await proxyInFront(stack.systemDatabaseUrl, 5432);
    proxy = proxied.proxy;
    orm = await openOrm(proxied.url, 2);
    relay = await startRelay(stack.amqpUrl, { database: { orm, url: proxied.url } });
    const { write, allPublished } = await ledgerStream(queue);
    assert.equal(relay.status().leader, true, 'the relay publishes');

    proxy.refuse(true);
    proxy.cutAll();
    const downAt = Date.now();
    let stoodDown = false;
    while (Date.now() - downAt < outageMs) {
      await write();
      stoodDown ||= !relay.status().leader;
      // Deliberately paced: events keep arriving in the outbox while the relay cannot read it.
      await sleep(400);
    }
    assert.ok(stoodDown, 'the relay stood down when its leader session was lost');
    proxy.refuse(false);

    const { outbox, recoveredMs, duplicates } = await allPublished(Date.now());
    assert.equal(relay.status().leader, true, 'the relay leads again');
    console.log(
      `      relay: ${outbox.length} events, all published ${recoveredMs} ms after the database came back, ${duplicates} duplicates`,
    );
  });
});
