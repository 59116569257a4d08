/**
 * The two ways a caller is turned away at an edge. REST answers 401 (with WWW-Authenticate) or 403;
 * gRPC answers UNAUTHENTICATED or PERMISSION_DENIED. Messages are safe to show the caller: they say
 * what to fix, never what another organization holds.
 */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  /** No credentials at all (RFC 6750 then sends the bare challenge, without an error code). */
  readonly missing: boolean;
  constructor(message: string, options: { missing?: boolean } = {}) {
    super(message);
    this.missing = options.missing ?? false;
  }
}

export class PermissionDeniedError extends Error {
  override name = 'PermissionDeniedError';
}
