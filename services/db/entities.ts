import { Warehouse } from '../inventory/warehouses/warehouse.entity.ts';
import { Stock } from '../inventory/stock/stock.entity.ts';
import { StockMovement } from '../inventory/stock/stock-movement.entity.ts';
import { Reservation } from '../inventory/reservations/reservation.entity.ts';
import { IdempotencyKey } from '../http/idempotency-key.entity.ts';
import { Transfer } from '../inventory/transfers/transfer.entity.ts';
import { Location } from '../inventory/warehouses/location.entity.ts';
import { InboxEvent } from '../messaging/inbox-event.entity.ts';
import { ConsumerAttempt } from '../messaging/consumer-attempt.entity.ts';
import { OutboxEvent } from '../messaging/outbox-event.entity.ts';
import { Reconciliation } from '../inventory/reconciliation/reconciliation.entity.ts';
import { StockDrift } from '../inventory/reconciliation/stock-drift.entity.ts';
import { RateLimitCounter } from '../limits/rate-limit.entity.ts';
import { CustomerHold } from '../limits/customer-hold.entity.ts';

/** Every entity the ORM maps; the migrations in ./migrations create their tables. */
export const entities = [
  Warehouse,
  Location,
  Stock,
  StockMovement,
  Reservation,
  Transfer,
  OutboxEvent,
  InboxEvent,
  ConsumerAttempt,
  IdempotencyKey,
  Reconciliation,
  StockDrift,
  RateLimitCounter,
  CustomerHold,
];
