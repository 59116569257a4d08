import { Client, Connection } from '@temporalio/client';
import { temporalConnectConfig, type Config } from './config.ts';

/**
 * A Temporal client for the facade. The connection is lazy: the facade starts (and serves reads)
 * while Temporal is still coming up, and the first workflow call connects. Address, namespace, TLS and
 * API key come from temporalConnectConfig (Temporal's own environment configuration).
 */
export function createTemporalClient(config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>): {
  client: Client;
  connection: Connection;
} {
  const { namespace, connectionOptions } = temporalConnectConfig(config);
  const { address, tls, apiKey, metadata } = connectionOptions;
  const connection = Connection.lazy({ address, tls, apiKey, metadata });
  return { connection, client: new Client({ connection, namespace }) };
}
