import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Orm } from '../../services/db/orm.ts';
import type { Logger } from '../../services/logger.ts';
import { scopeTo, type OrganizationScope } from '../../services/inventory/organization-scope.ts';

/** What the global fixtures start once for the whole run (see global-fixtures.ts). */
export interface TestStack {
  databaseUrl: string;
  orm: Orm;
  temporal: TestWorkflowEnvironment;
  amqpUrl: string;
  /** This run's own events exchange; tests bind their own exclusive queues to it. */
  exchange: string;
  logger: Logger;
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
