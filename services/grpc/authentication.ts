import * as grpc from '@grpc/grpc-js';
import type { InventoryServiceHandlers } from './generated/inventory/v1/InventoryService.ts';
import { can, inWarehouseScope, type Permission, type Principal } from '../auth/access.ts';
import { AuthenticationError, PermissionDeniedError } from '../auth/errors.ts';
import { bearerToken, type TokenVerifier } from '../auth/token-verifier.ts';

/** The permission each RPC needs; a new RPC without an entry fails `tsc`. */
export const rpcPermissions = {
  CheckAvailability: 'availability:read',
  ReserveStock: 'reservations:write',
  ConfirmReservation: 'reservations:write',
  ReleaseReservation: 'reservations:write',
  ExtendReservation: 'reservations:write',
  FulfilReservation: 'reservations:write',
  GetReservation: 'reservations:write',
  GetWarehouseStock: 'stock:read',
  GetStockHistory: 'stock:read',
} as const satisfies Record<keyof InventoryServiceHandlers, Permission>;

export type Rpc = keyof typeof rpcPermissions;

// The interceptor hands the verified caller to the handler through the call's own metadata object,
// which grpc-js passes on unchanged; a WeakMap keeps it out of anything a client can send.
const principals = new WeakMap<grpc.Metadata, Principal>();

/**
 * Checks `authorization: Bearer <JWT>` metadata on every InventoryService call before the handler runs
 * (health and reflection stay open) and answers UNAUTHENTICATED when it is missing or not valid.
 */
export function authenticationInterceptor(verify: TokenVerifier, servicePath: string): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, passOn) => {
            if (!method.path.startsWith(`/${servicePath}/`)) return passOn(metadata);
            const token = bearerToken(String(metadata.get('authorization')[0] ?? ''));
            const refuse = (message: string) =>
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: message, metadata: new grpc.Metadata() });
            if (!token) return refuse('send authorization: Bearer <token> metadata');
            verify(token).then(
              (principal) => {
                principals.set(metadata, principal);
                passOn(metadata);
              },
              (error: unknown) =>
                refuse(error instanceof AuthenticationError ? error.message : 'the token could not be verified'),
            );
          },
        }),
    });
}

/**
 * The caller of an RPC, allowed to make it: the method's permission held, the request's
 * organization_id (when sent) the token's own, every warehouse it names in the token's scope. Returns
 * the request with organization_id set to the token's, lower case.
 */
export function authorizeCall<Req extends object>(
  rpc: Rpc,
  metadata: grpc.Metadata,
  request: Req,
): { principal: Principal; request: Req } {
  const earlier = authorized.get(metadata);
  if (earlier?.rpc === rpc && earlier.sent === request) return earlier.answer as { principal: Principal; request: Req };
  const answer = decide(rpc, metadata, request);
  authorized.set(metadata, { rpc, sent: request, answer });
  return answer;
}

// The rate limiter and the handler both authorize each call (services/limits/grpc.ts, status.ts): the second gets the
// first's answer, which depends only on the call's principal and request. Refusals are not kept: they end the call.
const authorized = new WeakMap<
  grpc.Metadata,
  { rpc: Rpc; sent: object; answer: { principal: Principal; request: object } }
>();

function decide<Req extends object>(
  rpc: Rpc,
  metadata: grpc.Metadata,
  request: Req,
): { principal: Principal; request: Req } {
  const principal = principals.get(metadata);
  // No principal means the interceptor was not installed: fail closed.
  if (!principal) throw new AuthenticationError('the call was not authenticated');
  const permission = rpcPermissions[rpc];
  if (!can(principal, permission))
    throw new PermissionDeniedError(
      `${rpc} needs the ${permission} permission, which none of the token's roles (${principal.roles.join(', ') || 'none'}) grants`,
    );
  const sent = (request as { organization_id?: unknown }).organization_id;
  if (typeof sent === 'string' && sent !== '' && sent.trim().toLowerCase() !== principal.organizationId) {
    throw new PermissionDeniedError('organization_id differs from the organization of the token');
  }
  const outside = namedWarehouses(request).find((id) => !inWarehouseScope(principal, id));
  if (outside) throw new PermissionDeniedError(`warehouse ${outside} is outside the token's warehouse scope`);
  return { principal, request: { ...request, organization_id: principal.organizationId } };
}

function namedWarehouses(request: object): string[] {
  const named: string[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (/(^|_)warehouse_id$/.test(key) && typeof inner === 'string' && inner !== '') named.push(inner);
      else if (typeof inner === 'object') visit(inner);
    }
  };
  visit(request);
  return named;
}
