/**
 * `npm run token -- --role operator [--org <uuid>] [--sub <subject>] [--name <display name>]
 *                  [--warehouses <uuid,uuid>] [--ttl <seconds>]`
 * Prints a bearer token signed by the development issuer under .data/auth/ (the one `npm start` trusts;
 * created here when missing). --role may repeat or list roles with commas. The organization defaults to
 * the demo organization. For development only: production tokens come from the identity provider.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadOrCreateDevIssuer } from '../services/auth/dev-issuer.ts';
import { roles } from '../services/auth/access.ts';
import { demo } from './demo-data.ts';

const { values } = parseArgs({
  options: {
    role: { type: 'string', multiple: true, default: ['operator'] },
    org: { type: 'string', default: demo.organizationId },
    sub: { type: 'string' },
    name: { type: 'string' },
    warehouses: { type: 'string' },
    ttl: { type: 'string', default: '43200' },
  },
});

const requested = values.role
  .flatMap((r) => r.split(','))
  .map((r) => r.trim())
  .filter(Boolean);
const unknown = requested.filter((r) => !(roles as readonly string[]).includes(r));
if (unknown.length > 0) {
  process.stderr.write(`unknown role(s): ${unknown.join(', ')}; roles are ${roles.join(', ')}\n`);
  process.exit(2);
}
const ttlSeconds = Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
  process.stderr.write('--ttl must be a whole number of seconds\n');
  process.exit(2);
}
const dir = path.join(fileURLToPath(new URL('..', import.meta.url)), '.data', 'auth');
const issuer = await loadOrCreateDevIssuer(dir);
const token = await issuer.mint({
  subject: values.sub ?? `dev-${requested.join('-')}`,
  organizationId: values.org.toLowerCase(),
  roles: requested,
  warehouses: values.warehouses?.split(',').map((w) => w.trim().toLowerCase()),
  name: values.name,
  ttlSeconds,
});
process.stdout.write(`${token}\n`);
