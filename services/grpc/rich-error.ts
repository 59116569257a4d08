import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { Shortage } from '../inventory/errors.ts';

/**
 * Encodes per-line shortages in the standard rich error model: a google.rpc.Status whose details hold
 * a google.rpc.PreconditionFailure, for the `grpc-status-details-bin` trailer that gRPC clients in
 * every language know how to decode.
 */
const root = new protobuf.Root();
root.resolvePath = (_origin, target) =>
  target.startsWith('google/protobuf/') ? target : fileURLToPath(new URL(`../../proto/${target}`, import.meta.url));
root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
root.resolveAll();
const Status = root.lookupType('google.rpc.Status');
const PreconditionFailure = root.lookupType('google.rpc.PreconditionFailure');

export function shortagesStatusDetails(code: number, message: string, shortages: Shortage[]): Buffer {
  const failure = PreconditionFailure.encode(
    PreconditionFailure.create({
      violations: shortages.map((s) => ({
        type: 'STOCK',
        subject: `variant/${s.variant_id}/warehouse/${s.warehouse_id ?? 'any'}`,
        description: `requested ${s.requested}, available ${s.available}`,
      })),
    }),
  ).finish();
  const status = Status.create({
    code,
    message,
    details: [{ type_url: 'type.googleapis.com/google.rpc.PreconditionFailure', value: failure }],
  });
  return Buffer.from(Status.encode(status).finish());
}

/** Decodes what shortagesStatusDetails wrote (clients and tests). */
export function decodeStatusDetails(bytes: Buffer): {
  code: number;
  message: string;
  violations: { type: string; subject: string; description: string }[];
} {
  const status = Status.toObject(Status.decode(bytes), { defaults: true }) as {
    code: number;
    message: string;
    details: { type_url: string; value: Uint8Array }[];
  };
  const violations = status.details
    .filter((d) => d.type_url.endsWith('google.rpc.PreconditionFailure'))
    .flatMap(
      (d) =>
        (
          PreconditionFailure.toObject(PreconditionFailure.decode(d.value), { defaults: true }) as {
            violations: { type: string; subject: string; description: string }[];
          }
        ).violations,
    );
  return { code: status.code, message: status.message, violations };
}
