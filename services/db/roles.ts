import pg from 'pg';

/**
 * The three database roles of the service (README, Security model). Their names are fixed, so that a
 * migration can name them in its grants and policies deterministically; their passwords are the
 * deployment's, carried by the connection URLs (DATABASE_OWNER_URL, DATABASE_URL, DATABASE_SYSTEM_URL).
 *
 * - owner: owns the schema and every table, runs the migrations; subject to row-level security (FORCE).
 * - runtime: what every service process uses for the organizations' data; LOGIN, NOSUPERUSER, NOBYPASSRLS,
 *   owns nothing, sees the rows of the organization its transaction is bound to and no others.
 * - system: the cross-organization work alone (the outbox relay, retention, the nightly list of
 *   organizations, backlog counts); BYPASSRLS, with grants on just the tables and columns that work needs.
 */
export const databaseRoles = {
  owner: 'inventory_owner',
  runtime: 'inventory_runtime',
  system: 'inventory_system',
} as const;

export type DatabaseRole = keyof typeof databaseRoles;

const attributes: Record<DatabaseRole, string> = {
  owner: 'login nosuperuser nobypassrls nocreaterole nocreatedb',
  runtime: 'login nosuperuser nobypassrls nocreaterole nocreatedb',
  system: 'login nosuperuser bypassrls nocreaterole nocreatedb',
};

/** `url` with its user replaced by the role and its password by `password` (none: no password). */
export function urlForRole(url: string, role: DatabaseRole, password?: string): string {
  const derived = new URL(url);
  derived.username = databaseRoles[role];
  derived.password = password ? encodeURIComponent(password) : '';
  return derived.toString();
}

/** The password a URL carries, if any. */
function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const password = decodeURIComponent(new URL(url).password);
  return password === '' ? undefined : password;
}

/**
 * The SQL that creates the three roles when missing and sets their attributes (and passwords, when
 * given) every time: idempotent, safe to run at every start and by several bootstraps at once (a role
 * created meanwhile by another is simply taken as it is). Roles are cluster-wide, so this is bootstrap
 * work for a superuser (only one may grant BYPASSRLS), never a migration's.
 */
export function roleBootstrapSql(passwords: Partial<Record<DatabaseRole, string>> = {}): string {
  const statements = (Object.keys(databaseRoles) as DatabaseRole[]).map((role) => {
    const name = databaseRoles[role];
    const password = passwords[role];
    const setPassword = password === undefined ? '' : ` password ${literal(password)}`;
    const alter = `alter role ${name} ${attributes[role]}${setPassword}`;
    // A tag of its own: a password may contain `$$`.
    return `do $bootstrap$ begin
  if not exists (select 1 from pg_roles where rolname = '${name}') then
    begin
      create role ${name};
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  execute ${literal(alter)};
end $bootstrap$;`;
  });
  return statements.join('\n');
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export interface RoleUrls {
  owner: string;
  runtime: string;
  system: string;
}

/**
 * What a bootstrap does with an administrator's connection (`adminUrl`, a superuser): the roles (passwords
 * from `urls`), the database of `urls.owner` when missing, owned by the owner role, and every table,
 * sequence and function already in its schema handed to the owner role (a database migrated as postgres
 * before the roles existed). Idempotent. The schema's grants and policies are the migrations' work.
 */
export async function bootstrapDatabase(adminUrl: string, urls: RoleUrls): Promise<void> {
  const database = decodeURIComponent(new URL(urls.owner).pathname.slice(1));
  const server = new URL(adminUrl);
  server.pathname = '/postgres';
  await withClient(server.toString(), async (client) => {
    // One bootstrap at a time on the cluster: two concurrent ALTER ROLE of one role fail
    // ("tuple concurrently updated").
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', ['inventory-service/roles']);
    const passwords = {
      owner: passwordOf(urls.owner),
      runtime: passwordOf(urls.runtime),
      system: passwordOf(urls.system),
    };
    await client.query(roleBootstrapSql(passwords));
    await client.query('commit');
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    const quoted = `"${database.replaceAll('"', '""')}"`;
    if (rowCount === 0) await client.query(`create database ${quoted} owner ${databaseRoles.owner}`);
    else await client.query(`alter database ${quoted} owner to ${databaseRoles.owner}`);
  });
  const target = new URL(adminUrl);
  target.pathname = `/${encodeURIComponent(database)}`;
  await withClient(target.toString(), (client) => client.query(adoptSchemaSql).then(() => undefined));
}

// Objects created in `public` by another role (postgres, before the roles existed) become the owner role's,
// so that its migrations may alter them. Objects that belong to an extension are left to it.
const adoptSchemaSql = `do $$
declare
  item record;
begin
  execute format('alter schema public owner to %I', '${databaseRoles.owner}');
  for item in
    select c.relname as name, c.relkind as kind from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
      and pg_get_userbyid(c.relowner) <> '${databaseRoles.owner}'
      and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
      -- a sequence owned by a column follows its table
      and not (c.relkind = 'S' and exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')))
  loop
    execute format(case item.kind when 'S' then 'alter sequence %I owner to %I'
      when 'v' then 'alter view %I owner to %I' when 'm' then 'alter materialized view %I owner to %I'
      else 'alter table %I owner to %I' end, item.name, '${databaseRoles.owner}');
  end loop;
  for item in
    select p.oid::regprocedure::text as signature from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> '${databaseRoles.owner}'
      and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
  loop
    execute format('alter function %s owner to %I', item.signature, '${databaseRoles.owner}');
  end loop;
end $$;`;

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
