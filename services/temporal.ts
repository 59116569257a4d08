import { Client, Connection } from '@temporalio/client';
import { temporalConnectConfig, type Config } from './config.ts';
import { workflowClientInterceptors } from './tracing/temporal.ts';
import type { Tracing } from './tracing/tracing.ts';

/**
 * A Temporal client for the facade. The connection is lazy: the facade starts (and serves reads)
 * while Temporal is still coming up, and the first workflow call connects. Address, namespace, TLS and
 * API key come from temporalConnectConfig (Temporal's own environment configuration). With tracing on,
 * each workflow call is a span whose context the workflow continues (README, Traces).
 */
export function createTemporalClient(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>,
  tracing: Pick<Tracing, 'enabled'> = { enabled: false },
): {
  client: Client;
  connection: Connection;
} {
  const { namespace, connectionOptions } = temporalConnectConfig(config);
  const { address, tls, apiKey, metadata } = connectionOptions;
  const connection = Connection.lazy({ address, tls, apiKey, metadata });
  return {
    connection,
    client: new Client({ connection, namespace, interceptors: workflowClientInterceptors(tracing) }),
  };
}
