/**
 * What the link-fault tests share: a TCP proxy in front of one of the stack's servers (PostgreSQL,
 * RabbitMQ) with the URL that goes through it, and a caller that sends the same ReserveStock until it
 * gets a definite answer.
 */
import * as grpc from '@grpc/grpc-js';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import type { GrpcHarness } from '../helpers/grpc.ts';
import { startTcpProxy, type TcpProxy, type TcpProxyOptions } from '../helpers/tcp-proxy.ts';
import { sleep } from '../helpers/wait.ts';

/** A proxy in front of the server `url` names, and `url` rewritten to go through it. */
export async function proxyInFront(
  url: string,
  defaultPort: number,
  options: TcpProxyOptions = {},
): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(url);
  const proxy = await startTcpProxy(
    target.hostname === 'localhost' ? '127.0.0.1' : target.hostname,
    Number(target.port || defaultPort),
    options,
  );
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  return { proxy, url: proxied.toString() };
}

/** Statuses that tell the caller "no definite answer yet: send the same request again". */
export const retryable = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);

export type Outcome = { held: ReserveStockResponse__Output } | { refused: grpc.ServiceError };

/** Sends the same ReserveStock until it gets a definite answer (held, or refused for good). */
export async function reserveUntilDefinite(api: GrpcHarness, request: object, timeoutMs = 60_000): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return { held: await api.call<ReserveStockResponse__Output>('ReserveStock', request) };
    } catch (error) {
      const e = error as grpc.ServiceError;
      if (!retryable.has(e.code)) return { refused: e };
      if (Date.now() > deadline) throw new Error(`no definite answer within ${timeoutMs} ms: ${e.details}`);
      await sleep(250);
    }
  }
}
