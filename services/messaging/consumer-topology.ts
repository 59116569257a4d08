import type { Config } from '../config.ts';
import { catalogEventNames, orderEventNames, purchasingEventNames, type ConsumerTopology } from './topology.ts';

/** The consumer's sources as configured: one quorum queue per producing service, one dead-letter queue. */
export function consumerTopologyFrom(
  config: Pick<
    Config,
    | 'ORDER_EVENTS_EXCHANGE'
    | 'CATALOG_EVENTS_EXCHANGE'
    | 'PURCHASING_EVENTS_EXCHANGE'
    | 'CONSUMER_QUEUE_PREFIX'
    | 'ORDER_EVENTS_PUBLISHER'
    | 'CATALOG_EVENTS_PUBLISHER'
    | 'PURCHASING_EVENTS_PUBLISHER'
  >,
): ConsumerTopology {
  const prefix = config.CONSUMER_QUEUE_PREFIX;
  return {
    sources: [
      {
        name: 'order',
        exchange: config.ORDER_EVENTS_EXCHANGE,
        queue: `${prefix}.order-events`,
        events: orderEventNames,
        publisher: config.ORDER_EVENTS_PUBLISHER,
      },
      {
        name: 'catalog',
        exchange: config.CATALOG_EVENTS_EXCHANGE,
        queue: `${prefix}.catalog-events`,
        events: catalogEventNames,
        publisher: config.CATALOG_EVENTS_PUBLISHER,
      },
      {
        name: 'purchasing',
        exchange: config.PURCHASING_EVENTS_EXCHANGE,
        queue: `${prefix}.purchasing-events`,
        events: purchasingEventNames,
        publisher: config.PURCHASING_EVENTS_PUBLISHER,
      },
    ],
    deadLetterQueue: `${prefix}.dead-letter`,
  };
}
