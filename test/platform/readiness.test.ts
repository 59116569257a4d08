import assert from 'node:assert/strict';
import { createReadinessProbe } from '../../services/readiness.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { testStack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

describe('readiness', () => {
  let proxy: TcpProxy;
  before(async () => {
    const broker = new URL(testStack().amqpUrl);
    proxy = await startTcpProxy(broker.hostname, Number(broker.port || 5672));
  });
  after(() => proxy.close());

  it('watches one broker connection instead of opening one per probe, and reopens it when it is lost', async () => {
    const stack = testStack();
    const url = new URL(stack.amqpUrl);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const probe = createReadinessProbe({ ...stack, amqpUrl: url.toString(), temporal: stack.temporal.connection });
    try {
      for (let i = 0; i < 5; i += 1) assert.equal((await probe()).checks.rabbitmq.status, 'up');
      assert.equal(proxy.accepted(), 1, 'five probes, one connection');
      proxy.cutAll();
      await waitFor(
        probe,
        (r) => r.checks.rabbitmq.status === 'down' && r.status === 'degraded',
        'the lost connection reported',
      );
      await waitFor(probe, (r) => r.checks.rabbitmq.status === 'up' && r.status === 'ready', 'the connection reopened');
      assert.equal(proxy.accepted(), 2);
    } finally {
      await probe.close();
    }
  });
});
