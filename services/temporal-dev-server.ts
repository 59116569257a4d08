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
 * Dynamic config for the Temporal servers this project runs (the dev server of `npm start`, the tests and
 * the bench; the real server of TEMPORAL_MODE=cluster). README, Benchmark, says what each changes; a
 * production cluster should set the same.
 *
 * - Eager activity execution lets the server hand an activity task straight back to the worker that
 *   scheduled it, saving a matching round trip: ReserveStock's latency at concurrency 1 halves.
 * - Each history shard reads its transfer, timer and visibility queues at most `…MaxPollRPS` times a
 *   second (default 20): every workflow task, activity task and fired timer waits for that shard's next
 *   read, up to 50 ms. The dev server has one shard, so that read rate was the whole server's: the 50 ms
 *   quantum of an empty Update-with-Start at concurrency 1, and ReserveStock's two workflow tasks at
 *   100 ms. A read only happens when tasks are waiting, so a higher cap costs nothing when idle.
 */
export const serverDynamicConfig: Record<string, boolean | number> = {
  'system.enableActivityEagerExecution': true,
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
};

/**
 * SQLite pragmas for the dev server's file (`npm start`, the tests' and the bench's file-backed servers).
 * Without them SQLite rewrites a rollback journal and syncs the disk twice on every commit (journal_mode=delete,
 * synchronous=full); in WAL mode a commit appends to the log, and synchronous=normal syncs the log only at
 * checkpoints. The cost (README, Benchmark, "The `npm start` stack, measured"): a power loss or an OS crash can
 * lose the last commits; a crash of the dev server's process cannot.
 */
export const devServerSqlitePragmas: Record<string, string> = { journal_mode: 'wal', synchronous: 'normal' };

/**
 * `temporal server start-dev` arguments for a dev server on 127.0.0.1:`port` with its state in `dbFile`
 * (so a restart on the same file and port finds every workflow and timer again), the UI on `uiPort` or
 * none, errors only in its log, and the service's search attributes, dynamic config and SQLite pragmas
 * (`sqlitePragmas` replaces those, for the bench's comparison).
 */
export function devServerArgs(options: {
  port: number;
  dbFile: string;
  uiPort?: number;
  sqlitePragmas?: Record<string, string>;
}): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    ...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
    '--db-filename',
    options.dbFile,
    '--log-level',
    'error',
    ...Object.entries(options.sqlitePragmas ?? devServerSqlitePragmas).flatMap(([pragma, value]) => [
      '--sqlite-pragma',
      `${pragma}=${value}`,
    ]),
    ...searchAttributeFlags(),
    ...dynamicConfigFlags(),
  ];
}

/** `--dynamic-config-value key=value` flags for `temporal server start-dev`. */
export function dynamicConfigFlags(): string[] {
  return Object.entries(serverDynamicConfig).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]);
}

/** The same values as a dynamic config file, for the real server (scripts/temporal-cluster.ts). */
export function dynamicConfigYaml(): string {
  return Object.entries(serverDynamicConfig)
    .map(([key, value]) => `${key}:\n  - value: ${value}\n`)
    .join('');
}
