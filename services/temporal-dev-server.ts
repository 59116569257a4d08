import { searchAttributes } from '../workflows/search-attributes.ts';

/** The dev server's names for search attribute types, as `temporal server start-dev --search-attribute` takes them. */
const cliTypeNames: Record<string, string> = {
  KEYWORD: 'Keyword',
  KEYWORD_LIST: 'KeywordList',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
};

/** `--search-attribute Name=Type` flags registering every attribute the workflows set. */
export function searchAttributeFlags(): string[] {
  return searchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${cliTypeNames[key.type]}`]);
}

/**
 * Dynamic config for the dev server. Eager activity execution lets the server hand an activity task
 * straight back to the worker that scheduled it, saving a matching round trip: ReserveStock's latency
 * at concurrency 1 halves (bench/). Production servers should enable it too.
 */
export function dynamicConfigFlags(): string[] {
  return ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];
}
