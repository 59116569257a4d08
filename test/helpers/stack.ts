import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../../services/db/orm.ts';
import type { Logger } from '../../services/logger.ts';
import { scopeTo, type OrganizationScope } from '../../services/inventory/organization-scope.ts';
import type { DevIssuer, TokenRequest } from '../../services/auth/dev-issuer.ts';
import type { TokenVerifier } from '../../services/auth/token-verifier.ts';

/** What the global fixtures start once for the whole run (see global-fixtures.ts). */
export interface TestStack {
  /** The runtime role's URL (DATABASE_URL): what the service under test connects with. */
  databaseUrl: string;
  /** The system role's URL (DATABASE_SYSTEM_URL): the relay's and retention's. */
  systemDatabaseUrl: string;
  /** The owner role's URL (DATABASE_OWNER_URL): it ran the migrations. */
  ownerDatabaseUrl: string;
  /** A superuser's URL on the same database: for assertions and fixtures only (bypasses row-level security). */
  observerDatabaseUrl: string;
  /** The runtime role's pool: what the service under test (activities, REST, gRPC, consumers) uses. */
  orm: Orm;
  /** The system role's pool: what the relay, retention and the nightly listing use. */
  systemOrm: Orm;
  /**
   * A superuser's pool: for assertions and fixtures only. It sees and writes every organization's rows
   * (row-level security does not apply to it), so it must never be handed to the code under test.
   */
  observerOrm: Orm;
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

/**
 * An organization's scope for a test. `transaction` is the service's own (the runtime role, bound to the
 * organization); `em` is an observer's connection (a superuser, bypassing row-level security), for
 * assertions and fixtures only: reading back what the code under test wrote, or setting up rows.
 */
export type TestOrganizationScope = OrganizationScope & { readonly em: EntityManager };

/** A fresh organization, so a test sees only the rows it made. */
export function newOrganization(): TestOrganizationScope {
  return organizationScope(randomUUID());
}

/**
 * A scope of the organization as the service sees it (runtime role, row-level security), on its own
 * connection like another request's; its `em` is the observer's, for assertions and fixtures only.
 */
export function organizationScope(organizationId: string): TestOrganizationScope {
  const stack = testStack();
  return { ...scopeTo(stack.orm.em, organizationId), em: stack.observerOrm.em.fork() };
}

/**
 * A token for the organization, by default with every role (an admin who is also the order service),
 * for tests about something other than authorization.
 */
export function tokenFor(organizationId: string, request: Partial<TokenRequest> = {}): Promise<string> {
  return testStack().issuer.mint({
    subject: 'test-user',
    roles: ['admin', 'order-service'],
    ...request,
    organizationId,
  });
}
