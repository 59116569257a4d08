import pg from 'pg';
import { randomBytes } from 'node:crypto';

/**
 * Creates an empty database next to the one `serverUrl` points at, hands its URL to `fn`,
 * and drops it afterwards, whatever happens. Tests and tools use it to stay hermetic.
 */
export async function withScratchDatabase<T>(
  serverUrl: string,
  fn: (url: string) => Promise<T>,
  prefix = 'inventory_scratch',
): Promise<T> {
  const { url, drop } = await createScratchDatabase(serverUrl, prefix);
  try {
    return await fn(url);
  } finally {
    await drop();
  }
}

export async function createScratchDatabase(
  serverUrl: string,
  prefix: string,
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => run(`drop database if exists "${name}" with (force)`) };
}
