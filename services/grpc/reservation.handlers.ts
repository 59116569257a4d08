import * as grpc from '@grpc/grpc-js';
import type { InventoryServiceHandlers } from './generated/inventory/v1/InventoryService.ts';
import type { GrpcDeps } from './server.ts';

type ReservationMethods = 'ReserveStock' | 'ConfirmReservation' | 'ReleaseReservation' | 'ExtendReservation' | 'FulfilReservation' | 'GetReservation';

/** The reservation RPCs (issue #3, reservation workflows): not served yet, so callers get UNIMPLEMENTED rather than a guess. */
export function createReservationHandlers(_deps: GrpcDeps): Pick<InventoryServiceHandlers, ReservationMethods> {
  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: 'reservations are not served by this version of the inventory service yet' });
  return {
    ReserveStock: unimplemented,
    ConfirmReservation: unimplemented,
    ReleaseReservation: unimplemented,
    ExtendReservation: unimplemented,
    FulfilReservation: unimplemented,
    GetReservation: unimplemented,
  };
}
