import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import { isDatabaseUnavailable } from '../../../services/db/unavailable.ts';

/** What pg rejects with when connecting to a server that `serve` stands in for (no PostgreSQL needed). */
async function connectionError(serve: (socket: net.Socket) => void): Promise<unknown> {
  const server = net.createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'nobody', database: 'none' });
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('isDatabaseUnavailable', () => {
  it('is true for what pg raises when the server refuses the connection or drops it', async () => {
    const refused = await new pg.Client({ host: '127.0.0.1', port: await closedPort() }).connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.equal((refused as { code?: string }).code, 'ECONNREFUSED');
    assert.equal(isDatabaseUnavailable(refused), true);
    const dropped = await connectionError((socket) => socket.destroy());
    assert.match((dropped as Error).message, /Connection terminated/);
    assert.equal(isDatabaseUnavailable(dropped), true);
  });

  it('is true for a server shutting down, crashed, recovering or out of connections, and for a pool with none free', () => {
    for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '53300'])
      assert.equal(isDatabaseUnavailable({ code, message: 'from the server' }), true, code);
    assert.equal(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect')), true);
    assert.equal(
      isDatabaseUnavailable(new Error('Client has encountered a connection error and is not queryable')),
      true,
    );
  });

  it("is false for the request's own failures and anything else", () => {
    for (const code of ['23505', '23503', '40001', '42501', '57014', '22P02'])
      assert.equal(isDatabaseUnavailable({ code, message: 'from the server' }), false, code);
    assert.equal(isDatabaseUnavailable(new Error('boom')), false);
    assert.equal(isDatabaseUnavailable(undefined), false);
    assert.equal(isDatabaseUnavailable('Connection terminated'), false);
  });
});
