import net from 'node:net';

/**
 * A TCP proxy in front of a real server, so a test can cut live connections (a broker "crash" as the
 * client sees it), refuse new ones (a broker that is down) or slow every chunk down (a slow link or an
 * overloaded server), without touching the shared server.
 */
export interface TcpProxy {
  port: number;
  /** Destroys every open connection through the proxy. */
  cutAll(): void;
  /** While true, new connections are closed as soon as they open. */
  refuse(value: boolean): void;
  /**
   * Delays every chunk, both ways, by `ms` (0: none) from the moment it reaches the proxy; chunks keep
   * their order, so a chunk never overtakes one delayed before it. Applies to open connections too.
   */
  latency(ms: number): void;
  /** How many connections were let through so far. */
  accepted(): number;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /** The initial latency (see `TcpProxy.latency`); 0 by default. */
  latencyMs?: number;
}

export async function startTcpProxy(
  targetHost: string,
  targetPort: number,
  options: TcpProxyOptions = {},
): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let refusing = false;
  let accepted = 0;
  let latencyMs = options.latencyMs ?? 0;

  /** Forwards `from` to `to`, each chunk (and the end) held back by the latency in force when it arrived. */
  function forward(from: net.Socket, to: net.Socket): void {
    let lastDue = 0;
    const later = (action: () => void) => {
      const due = Math.max(Date.now() + latencyMs, lastDue);
      lastDue = due;
      const wait = due - Date.now();
      if (wait <= 0) action();
      else setTimeout(action, wait);
    };
    from.on('data', (chunk: Buffer) => later(() => !to.destroyed && to.write(chunk)));
    from.once('end', () => later(() => !to.destroyed && to.end()));
  }

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
    forward(client, upstream);
    forward(upstream, client);
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
    latency: (ms) => {
      latencyMs = ms;
    },
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
