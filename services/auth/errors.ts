/**
 * The two ways a caller is turned away at an edge. REST answers 401 (with WWW-Authenticate) or 403;
 * gRPC answers UNAUTHENTICATED or PERMISSION_DENIED. Messages are safe to show the caller: they say
 * what to fix, never what another organization holds.
 */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}

export class PermissionDeniedError extends Error {
  override name = 'PermissionDeniedError';
}
