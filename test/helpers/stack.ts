import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Orm } from '../../services/db/orm.ts';
import type { Logger } from '../../services/logger.ts';
import { scopeTo, type OrganizationScope } from '../../services/inventory/organization-scope.ts';
import type { DevIssuer, TokenRequest } from '../../services/auth/dev-issuer.ts';
import type { TokenVerifier } from '../../services/auth/token-verifier.ts';

/** What the global fixtures start once for the whole run (see global-fixtures.ts). */
export interface TestStack {
  databaseUrl: string;
  orm: Orm;
  temporal: TestWorkflowEnvironment;
  amqpUrl: string;
  /** This run's own events exchange; tests bind their own exclusive queues to it. */
  exchange: string;
  logger: Logger;
  /** The run's own token issuer, and the verifier the REST and gRPC harnesses trust it with. */
  issuer: DevIssuer;
  verifyToken: TokenVerifier;
}

let current: TestStack | undefined;

export function setStack(value: TestStack): void {
  current = value;
}

export function testStack(): TestStack {
  if (!current) throw new Error('the test stack is not up: run the suite with `npm test`');
  return current;
}

/** A fresh organization, so a test sees only the rows it made. */
export function newOrganization(): OrganizationScope {
  return scopeTo(testStack().orm.em, randomUUID());
}

/**
 * A token for the organization, by default with every role (an admin who is also the order service),
 * for tests about something other than authorization.
 */
export function tokenFor(organizationId: string, request: Partial<TokenRequest> = {}): Promise<string> {
  return testStack().issuer.mint({ subject: 'test-user', roles: ['admin', 'order-service'], ...request, organizationId });
}
