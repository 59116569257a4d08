import { Client, Connection } from '@temporalio/client';
import type { Config } from './config.ts';

/**
 * A Temporal client for the facade. The connection is lazy: the facade starts (and serves reads)
 * while Temporal is still coming up, and the first workflow call connects.
 */
export function createTemporalClient(config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>): { client: Client; connection: Connection } {
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  return { connection, client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }) };
}
