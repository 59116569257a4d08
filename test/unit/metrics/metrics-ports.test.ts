import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../services/config.ts';

describe('metrics ports', () => {
  it('gives every part its own metrics port by default, 0 turning one off, and refuses two parts on one port', () => {
    const config = loadConfig({});
    const ports = [
      config.HTTP_PORT,
      config.GRPC_PORT,
      config.GRPC_METRICS_PORT,
      config.WORKER_METRICS_PORT,
      config.RELAY_METRICS_PORT,
      config.CONSUMER_METRICS_PORT,
    ];
    assert.equal(new Set([...ports, 7233, 8233]).size, ports.length + 2);
    assert.equal(loadConfig({ RELAY_METRICS_PORT: '0', CONSUMER_METRICS_PORT: '0' }).RELAY_METRICS_PORT, 0);
    assert.throws(
      () => loadConfig({ CONSUMER_METRICS_PORT: '9466' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /CONSUMER_METRICS_PORT="9466": port 9466 is RELAY_METRICS_PORT's too/.test(e.message),
    );
    assert.throws(() => loadConfig({ GRPC_METRICS_PORT: '8003' }), /GRPC_METRICS_PORT.*HTTP_PORT's too/);
    assert.throws(() => loadConfig({ METRICS_HOST: 'localhost' }), /METRICS_HOST/);
  });
});
