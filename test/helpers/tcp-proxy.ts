import net from 'node:net';

/**
 * A TCP proxy in front of a real server, so a test can cut live connections (a broker "crash" as the
 * client sees it) or refuse new ones (a broker that is down), without touching the shared server.
 */
export interface TcpProxy {
  port: number;
  /** Destroys every open connection through the proxy. */
  cutAll(): void;
  /** While true, new connections are closed as soon as they open. */
  refuse(value: boolean): void;
  /** How many connections were let through so far. */
  accepted(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let refusing = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    accepted += 1;
    const upstream = net.connect({ host: targetHost, port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cutAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    cutAll,
    refuse: (value) => {
      refusing = value;
    },
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
