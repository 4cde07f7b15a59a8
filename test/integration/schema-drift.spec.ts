// The drift guard: prisma/schema.prisma (what Prisma Client believes) against a database migrated from the
// hand-written SQL in prisma/migrations (what actually exists). `prisma migrate diff` would do this with the schema
// engine, which cannot be downloaded here, so the schema is parsed by test/support/prisma-schema.ts and the database
// is read through information_schema and pg_catalog.
//
// Allowed to exist only in SQL: CHECK constraints, triggers, functions and partial unique indexes (WHERE …).
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { migrateDatabase } from '../../lib/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  compareShapes,
  normaliseDefault,
  parsePrismaSchema,
  PrismaSchemaError,
  type ColumnDefault,
  type ColumnShape,
  type DatabaseShape,
  type ReferentialAction,
  type TableShape,
} from '../support/prisma-schema';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCHEMA_PATH = path.join(ROOT, 'prisma', 'schema.prisma');
const MIGRATIONS_DIR = path.join(ROOT, 'prisma', 'migrations');

const schemaText = () => readFileSync(SCHEMA_PATH, 'utf8');

function migrationFolders(): string[] {
  return readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

// ---------------------------------------------------------------------------------------------- introspection

const RULES: Record<string, ReferentialAction> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  udt_name: string;
  character_maximum_length: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
  datetime_precision: number | null;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
  is_identity: 'YES' | 'NO';
}

function columnType(row: ColumnRow): string {
  switch (row.data_type) {
    case 'numeric':
      return row.numeric_precision === null ? 'numeric' : `numeric(${row.numeric_precision},${row.numeric_scale ?? 0})`;
    case 'timestamp with time zone':
    case 'timestamp without time zone':
    case 'time with time zone':
    case 'time without time zone': {
      const [kind, ...zone] = row.data_type.split(' ');
      return `${kind}(${row.datetime_precision}) ${zone.join(' ')}`;
    }
    case 'character varying':
    case 'character':
    case 'bit':
    case 'bit varying':
      return row.character_maximum_length === null
        ? row.data_type
        : `${row.data_type}(${row.character_maximum_length})`;
    case 'USER-DEFINED':
      return row.udt_name;
    default:
      return row.data_type;
  }
}

function columnDefault(row: ColumnRow): ColumnDefault | null {
  if (row.is_identity === 'YES') return { kind: 'sequence' };
  if (row.column_default === null) return null;
  if (/^nextval\(/i.test(row.column_default)) return { kind: 'sequence' };
  return { kind: 'value', expression: normaliseDefault(row.column_default) };
}

/** Reads the shape of every table in `schema` except `_prisma_migrations`. */
async function introspect(pool: pg.Pool, schema: string): Promise<DatabaseShape> {
  const tables = new Map<string, TableShape>();
  const tableRows = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`,
    [schema],
  );
  for (const { table_name } of tableRows.rows) {
    tables.set(table_name, {
      name: table_name,
      columns: [],
      primaryKey: null,
      uniqueIndexes: [],
      indexes: [],
      foreignKeys: [],
    });
  }
  const table = (name: string) => tables.get(name);

  const columns = await pool.query<ColumnRow>(
    `SELECT table_name, column_name, data_type, udt_name, character_maximum_length, numeric_precision, numeric_scale,
            datetime_precision, is_nullable, column_default, is_identity
       FROM information_schema.columns
      WHERE table_schema = $1`,
    [schema],
  );
  for (const row of columns.rows) {
    const column: ColumnShape = {
      name: row.column_name,
      type: columnType(row),
      nullable: row.is_nullable === 'YES',
      default: columnDefault(row),
    };
    table(row.table_name)?.columns.push(column);
  }

  // Primary keys and foreign keys. Columns come back in key order (unnest … WITH ORDINALITY).
  const constraints = await pool.query<{
    table_name: string;
    name: string;
    contype: 'p' | 'f';
    columns: string[];
    referenced_schema: string | null;
    referenced_table: string | null;
    referenced_columns: string[] | null;
    confdeltype: string;
    confupdtype: string;
  }>(
    `SELECT t.relname::text AS table_name, c.conname::text AS name, c.contype::text AS contype,
            array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            rn.nspname::text AS referenced_schema, rt.relname::text AS referenced_table,
            CASE WHEN c.contype = 'f' THEN
              array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
            END AS referenced_columns,
            c.confdeltype::text AS confdeltype, c.confupdtype::text AS confupdtype
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       LEFT JOIN pg_class rt ON rt.oid = c.confrelid
       LEFT JOIN pg_namespace rn ON rn.oid = rt.relnamespace
      WHERE n.nspname = $1 AND c.contype IN ('p', 'f')`,
    [schema],
  );
  for (const row of constraints.rows) {
    const target = table(row.table_name);
    if (!target) continue;
    if (row.contype === 'p') {
      target.primaryKey = { name: row.name, columns: row.columns };
    } else {
      target.foreignKeys.push({
        name: row.name,
        columns: row.columns,
        referencedTable:
          row.referenced_schema === schema ? row.referenced_table! : `${row.referenced_schema}.${row.referenced_table}`,
        referencedColumns: row.referenced_columns ?? [],
        onDelete: RULES[row.confdeltype]!,
        onUpdate: RULES[row.confupdtype]!,
      });
    }
  }

  // Indexes other than the primary key's. Key columns only (not INCLUDE), expressions spelled out.
  const indexes = await pool.query<{
    table_name: string;
    name: string;
    unique: boolean;
    partial: boolean;
    method: string;
    columns: string[];
  }>(
    `SELECT t.relname::text AS table_name, i.relname::text AS name, x.indisunique AS unique,
            x.indpred IS NOT NULL AS partial, am.amname::text AS method,
            array(SELECT CASE WHEN k.attnum = 0 THEN pg_get_indexdef(x.indexrelid, k.ord::int, true) ELSE a.attname::text END
                    FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                    LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                   WHERE k.ord <= x.indnkeyatts ORDER BY k.ord) AS columns
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_am am ON am.oid = i.relam
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND NOT x.indisprimary`,
    [schema],
  );
  for (const row of indexes.rows) {
    const target = table(row.table_name);
    if (!target) continue;
    if (row.unique && row.partial) continue; // SQL-only business rules, e.g. one system account per kind
    // Prisma's indexes are plain btree; anything else is shown so that it cannot match by name alone.
    const columns = row.method === 'btree' ? row.columns : [...row.columns, `USING ${row.method}`];
    if (row.partial) columns.push('WHERE …');
    (row.unique ? target.uniqueIndexes : target.indexes).push({ name: row.name, columns });
  }

  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const t of tables.values()) {
    t.columns.sort(byName);
    t.uniqueIndexes.sort(byName);
    t.indexes.sort(byName);
    t.foreignKeys.sort(byName);
  }
  return { tables: [...tables.values()].sort(byName) };
}

function assertNoDrift(problems: string[]): void {
  if (problems.length > 0) {
    expect.fail(
      `prisma/schema.prisma and the migrated database disagree (${problems.length}):\n  ` +
        problems.join('\n  ') +
        '\nFix the schema or add a migration so that both describe the same tables.',
    );
  }
}

/** Replaces the one match of `pattern` in the schema text; fails when it matches zero or several times. */
function mutate(source: string, pattern: RegExp, replacement: string): string {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  const count = [...source.matchAll(global)].length;
  expect(count, `mutation ${pattern} should match exactly once in schema.prisma`).to.equal(1);
  return source.replace(pattern, replacement);
}

// ---------------------------------------------------------------------------------------------- specs

describe('schema drift guard (schema.prisma against prisma/migrations)', () => {
  let db: TestDatabase;
  let actual: DatabaseShape;

  before(async () => {
    db = await createTestDatabase('drift');
    actual = await introspect(db.pool, db.schema);
  });

  after(async () => {
    await db?.drop();
  });

  it('parses schema.prisma into a non-trivial shape', () => {
    const expected = parsePrismaSchema(schemaText());
    expect(expected.tables.length).to.be.greaterThan(5);
    const users = expected.tables.find((t) => t.name === 'users');
    expect(users, 'the users table').to.exist;
    expect(users!.primaryKey).to.deep.equal({ name: 'users_pkey', columns: ['id'] });
    expect(users!.columns.find((c) => c.name === 'id')).to.deep.equal({
      name: 'id',
      type: 'bigint',
      nullable: false,
      default: { kind: 'sequence' },
    });
    expect(compareShapes(expected, expected)).to.deep.equal([]);
  });

  it('finds every table of schema.prisma and no other in the migrated database', () => {
    const expected = parsePrismaSchema(schemaText());
    expect(actual.tables.map((t) => t.name)).to.deep.equal(expected.tables.map((t) => t.name));
  });

  it('matches schema.prisma in columns, types, nullability, defaults, keys, indexes and foreign keys', () => {
    assertNoDrift(compareShapes(parsePrismaSchema(schemaText()), actual));
  });

  it('really introspects the database (sanity checks on what it read)', () => {
    const accounts = actual.tables.find((t) => t.name === 'accounts')!;
    expect(accounts.columns.find((c) => c.name === 'balance')).to.deep.equal({
      name: 'balance',
      type: 'numeric(78,0)',
      nullable: false,
      default: { kind: 'value', expression: '0' },
    });
    // accounts_system_kind_key is a partial unique index: a SQL-only rule the guard leaves alone.
    expect(accounts.uniqueIndexes.map((i) => i.name)).to.deep.equal(['accounts_kind_user_id_key']);
    const referrals = actual.tables.find((t) => t.name === 'referrals')!;
    expect(referrals.primaryKey).to.deep.equal({ name: 'referrals_pkey', columns: ['user_id', 'level'] });
    expect(referrals.foreignKeys.find((f) => f.name === 'referrals_user_id_fkey')).to.deep.equal({
      name: 'referrals_user_id_fkey',
      columns: ['user_id'],
      referencedTable: 'users',
      referencedColumns: ['id'],
      onDelete: 'CASCADE',
      onUpdate: 'NO ACTION',
    });
    const users = actual.tables.find((t) => t.name === 'users')!;
    expect(users.columns.find((c) => c.name === 'created_at')).to.deep.equal({
      name: 'created_at',
      type: 'timestamp(3) with time zone',
      nullable: false,
      default: { kind: 'value', expression: 'CURRENT_TIMESTAMP' },
    });
  });

  describe('bites when schema.prisma changes without a migration', () => {
    const cases: { what: string; pattern: RegExp; replacement: string; reports: string[] }[] = [
      {
        what: 'a column renamed',
        pattern: /@map\("first_name"\)/,
        replacement: '@map("given_name")',
        reports: [
          'column users.given_name: in schema.prisma, missing from the database',
          'column users.first_name: in the database, not in schema.prisma',
        ],
      },
      {
        what: 'a required column made optional',
        pattern: /(referralCode\s+)String /,
        replacement: '$1String?',
        reports: ['column users.referral_code: NOT NULL in the database, optional (nullable) in schema.prisma'],
      },
      {
        what: 'an optional column made required',
        pattern: /(confirmedAt\s+)DateTime\?/,
        replacement: '$1DateTime ',
        reports: [
          'column observed_transfers.confirmed_at: nullable in the database, required (NOT NULL) in schema.prisma',
        ],
      },
      {
        what: 'an index removed',
        pattern: /@@index\(\[ancestorId, level\], map: "referrals_ancestor_id_level_idx"\)/,
        replacement: '',
        reports: [
          'index on referrals: referrals_ancestor_id_level_idx (ancestor_id, level) in the database, not in schema.prisma',
        ],
      },
      {
        what: 'an index with other columns',
        pattern: /@@index\(\[ancestorId, level\]/,
        replacement: '@@index([level, ancestorId]',
        reports: [
          'index on referrals: referrals_ancestor_id_level_idx (ancestor_id, level) in the database, ' +
            'referrals_ancestor_id_level_idx (level, ancestor_id) in schema.prisma',
        ],
      },
      {
        what: 'a unique index removed',
        pattern: / @unique\(map: "users_wallet_address_key"\)/,
        replacement: '',
        reports: [
          'unique index on users: users_wallet_address_key (wallet_address) in the database, not in schema.prisma',
        ],
      },
      {
        what: 'a foreign key rule changed',
        pattern: /onDelete: Cascade, onUpdate: NoAction, map: "referrals_user_id_fkey"/,
        replacement: 'onDelete: Restrict, onUpdate: NoAction, map: "referrals_user_id_fkey"',
        reports: [
          'foreign key on referrals: referrals_user_id_fkey (user_id) → users (id) ON DELETE CASCADE ON UPDATE NO ACTION ' +
            'in the database, referrals_user_id_fkey (user_id) → users (id) ON DELETE RESTRICT ON UPDATE NO ACTION in schema.prisma',
        ],
      },
      {
        what: 'a column type changed',
        pattern: /(balance\s+Decimal\s+@default\(0\)\s+)@db\.Decimal\(78, 0\)/,
        replacement: '$1@db.Decimal(65, 30)',
        reports: ['column accounts.balance: type is numeric(78,0) in the database, numeric(65,30) in schema.prisma'],
      },
      {
        what: 'a native timestamp type dropped',
        pattern: /(confirmedAt\s+DateTime\?\s+@map\("confirmed_at"\)) @db\.Timestamptz\(3\)/,
        replacement: '$1',
        reports: [
          'column observed_transfers.confirmed_at: type is timestamp(3) with time zone in the database, ' +
            'timestamp(3) without time zone in schema.prisma',
        ],
      },
      {
        what: 'a default changed',
        pattern: /@default\("seen"\)/,
        replacement: '@default("confirmed")',
        reports: [
          "column observed_transfers.status: default 'seen' in the database, default 'confirmed' in schema.prisma",
        ],
      },
      {
        what: 'a default removed',
        pattern: /(isBanned\s+Boolean\s+)@default\(false\) /,
        replacement: '$1',
        reports: ['column users.is_banned: default false in the database, no default in schema.prisma'],
      },
      {
        what: 'autoincrement removed',
        pattern: /(model LedgerOutbox \{\s+id\s+BigInt\s+@id) @default\(autoincrement\(\)\)/,
        replacement: '$1',
        reports: [
          'column ledger_outbox.id: a sequence default (autoincrement) in the database, no default in schema.prisma',
        ],
      },
      {
        what: 'a composite primary key reordered',
        pattern: /@@id\(\[userId, level\]/,
        replacement: '@@id([level, userId]',
        reports: [
          'table referrals: primary key is referrals_pkey (user_id, level) in the database, referrals_pkey (level, user_id) in schema.prisma',
        ],
      },
      {
        what: 'a model removed',
        pattern: /model ChainOutbox \{[^}]*\}/,
        replacement: '',
        reports: ['table chain_outbox: in the database, not in schema.prisma'],
      },
      {
        what: 'a model added',
        pattern: /$/,
        replacement: '\nmodel Refund {\n  id BigInt @id @default(autoincrement())\n\n  @@map("refunds")\n}\n',
        reports: ['table refunds: in schema.prisma, missing from the database'],
      },
    ];

    for (const { what, pattern, replacement, reports } of cases) {
      it(`reports ${what}`, () => {
        const problems = compareShapes(parsePrismaSchema(mutate(schemaText(), pattern, replacement)), actual);
        expect(problems).to.have.members(reports);
      });
    }
  });

  describe('bites when the database changes without schema.prisma', () => {
    let scratch: TestDatabase;

    before(async () => {
      scratch = await createTestDatabase('drift_db');
    });

    after(async () => {
      await scratch?.drop();
    });

    it('ignores CHECK constraints, triggers, functions and partial unique indexes, reports everything else', async () => {
      await scratch.pool.query(`
        ALTER TABLE "users" ADD CONSTRAINT "users_username_short" CHECK (length("username") < 64);
        CREATE FUNCTION "noop"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER "users_noop" BEFORE UPDATE ON "users" FOR EACH ROW EXECUTE FUNCTION "noop"();
        CREATE UNIQUE INDEX "users_banned_username_key" ON "users"("username") WHERE "is_banned";
        CREATE INDEX "users_username_idx" ON "users"("username");
        CREATE INDEX "users_unbanned_idx" ON "users"("id") WHERE NOT "is_banned";
        ALTER TABLE "users" ALTER COLUMN "username" SET NOT NULL;
        ALTER TABLE "users" ALTER COLUMN "first_name" TYPE VARCHAR(64);
        ALTER TABLE "users" ALTER COLUMN "is_banned" SET DEFAULT true;
        ALTER TABLE "users" ADD COLUMN "nickname" TEXT;
        ALTER TABLE "chain_outbox" DROP CONSTRAINT "chain_outbox_pkey";
        ALTER TABLE "referrals" DROP CONSTRAINT "referrals_ancestor_id_fkey";
        ALTER TABLE "referrals" ADD CONSTRAINT "referrals_ancestor_id_fkey" FOREIGN KEY ("ancestor_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION;
        CREATE TABLE "stray" ("id" INTEGER PRIMARY KEY);
      `);
      const problems = compareShapes(parsePrismaSchema(schemaText()), await introspect(scratch.pool, scratch.schema));
      expect(problems).to.have.members([
        'index on users: users_username_idx (username) in the database, not in schema.prisma',
        'index on users: users_unbanned_idx (id, WHERE …) in the database, not in schema.prisma',
        'column users.username: NOT NULL in the database, optional (nullable) in schema.prisma',
        'column users.first_name: type is character varying(64) in the database, text in schema.prisma',
        'column users.is_banned: default true in the database, default false in schema.prisma',
        'column users.nickname: in the database, not in schema.prisma',
        'table chain_outbox: primary key is none in the database, chain_outbox_pkey (id) in schema.prisma',
        'foreign key on referrals: referrals_ancestor_id_fkey (ancestor_id) → users (id) ON DELETE CASCADE ON UPDATE NO ACTION ' +
          'in the database, referrals_ancestor_id_fkey (ancestor_id) → users (id) ON DELETE RESTRICT ON UPDATE NO ACTION in schema.prisma',
        'table stray: in the database, not in schema.prisma',
      ]);
    });
  });

  describe('the parser', () => {
    it("applies Prisma's default names and referential actions", () => {
      const shape = parsePrismaSchema(`
        generator client {
          provider = "prisma-client" // a comment with "quotes" and { braces }
        }
        datasource db {
          provider = "postgresql"
        }
        /// A doc comment.
        model Parent {
          id       Int     @id @default(autoincrement())
          code     String  @unique
          children Child[] @relation("parent")
          owned    Child[] @relation("owner")
        }
        model Child {
          id        Int       @id @default(autoincrement())
          parentId  Int?
          ownerId   Int
          label     String    @default("it's")
          weight    Decimal   @default(-1.50)
          at        DateTime  @default(now())
          stamp     DateTime  @db.Timestamptz
          parent    Parent?   @relation("parent", fields: [parentId], references: [id])
          owner     Parent    @relation("owner", fields: [ownerId], references: [id])

          @@unique([ownerId, label])
          @@index([parentId])
        }
      `);
      const child = shape.tables.find((t) => t.name === 'Child')!;
      expect(child.primaryKey).to.deep.equal({ name: 'Child_pkey', columns: ['id'] });
      expect(child.uniqueIndexes).to.deep.equal([{ name: 'Child_ownerId_label_key', columns: ['ownerId', 'label'] }]);
      expect(child.indexes).to.deep.equal([{ name: 'Child_parentId_idx', columns: ['parentId'] }]);
      expect(child.foreignKeys).to.deep.equal([
        {
          name: 'Child_ownerId_fkey',
          columns: ['ownerId'],
          referencedTable: 'Parent',
          referencedColumns: ['id'],
          onDelete: 'RESTRICT',
          onUpdate: 'CASCADE',
        },
        {
          name: 'Child_parentId_fkey',
          columns: ['parentId'],
          referencedTable: 'Parent',
          referencedColumns: ['id'],
          onDelete: 'SET NULL',
          onUpdate: 'CASCADE',
        },
      ]);
      const column = (name: string) => child.columns.find((c) => c.name === name);
      expect(column('label')?.default).to.deep.equal({ kind: 'value', expression: "'it''s'" });
      expect(column('weight')).to.deep.equal({
        name: 'weight',
        type: 'numeric(65,30)',
        nullable: false,
        default: { kind: 'value', expression: '-1.5' },
      });
      expect(column('at')).to.deep.equal({
        name: 'at',
        type: 'timestamp(3) without time zone',
        nullable: false,
        default: { kind: 'value', expression: 'CURRENT_TIMESTAMP' },
      });
      expect(column('stamp')?.type).to.equal('timestamp(6) with time zone');
      expect(child.columns.map((c) => c.name)).to.not.include.members(['parent', 'owner']);
      const parent = shape.tables.find((t) => t.name === 'Parent')!;
      expect(parent.columns.map((c) => c.name)).to.deep.equal(['code', 'id']);
      expect(parent.uniqueIndexes).to.deep.equal([{ name: 'Parent_code_key', columns: ['code'] }]);
    });

    it('normalises PostgreSQL default spellings', () => {
      expect(normaliseDefault("'seen'::text")).to.equal("'seen'");
      expect(normaliseDefault("'-1'::integer")).to.equal('-1');
      expect(normaliseDefault('now()')).to.equal('CURRENT_TIMESTAMP');
      expect(normaliseDefault("'{}'::jsonb")).to.equal("'{}'");
      expect(normaliseDefault('0.500')).to.equal('0.5');
      expect(normaliseDefault("'x'::character varying(10)")).to.equal("'x'");
    });

    it('refuses what it does not understand instead of skipping it', () => {
      const model = (body: string) => `model M {\n  id Int @id\n${body}\n}`;
      expect(() => parsePrismaSchema('enum Role {\n  ADMIN\n}')).to.throw(
        PrismaSchemaError,
        /"enum" blocks are not supported/,
      );
      expect(() => parsePrismaSchema(model('  role Role'))).to.throw(PrismaSchemaError, /unsupported type Role/);
      expect(() => parsePrismaSchema(model('  a String @db.Inet2'))).to.throw(
        PrismaSchemaError,
        /@db.Inet2 is not supported/,
      );
      expect(() => parsePrismaSchema(model('  a String\n  @@index([a], type: Hash)'))).to.throw(
        PrismaSchemaError,
        /type: on @index/,
      );
      expect(() => parsePrismaSchema(model('  a String\n  @@index([a(sort: Desc)])'))).to.throw(
        PrismaSchemaError,
        /sort/,
      );
      expect(() => parsePrismaSchema(model('  a String @ignore'))).to.throw(PrismaSchemaError, /@ignore/);
      expect(() => parsePrismaSchema(model('  a String @default(cuid2())'))).to.throw(PrismaSchemaError, /cuid2/);
      expect(() => parsePrismaSchema(model('  a String\n  @@index([b])'))).to.throw(
        PrismaSchemaError,
        /no scalar field b/,
      );
    });
  });
});

describe('migrateDatabase (lib/migrate.ts)', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase('migrate');
  });

  afterEach(async () => {
    await db?.drop();
  });

  async function recorded() {
    return (
      await db.pool.query<{
        id: string;
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
        rolled_back_at: Date | null;
        applied_steps_count: number;
        logs: string | null;
      }>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at')
    ).rows;
  }

  it('applies nothing the second time and records one finished row per migration, as Prisma does', async () => {
    const folders = migrationFolders();
    expect(folders).to.not.be.empty;
    expect(await migrateDatabase(db.url)).to.deep.equal({ applied: [], alreadyApplied: folders });
    expect(await migrateDatabase(db.url)).to.deep.equal({ applied: [], alreadyApplied: folders });

    const rows = await recorded();
    expect(rows.map((row) => row.migration_name)).to.deep.equal(folders);
    for (const row of rows) {
      const sql = readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum, `checksum of ${row.migration_name}`).to.equal(
        createHash('sha256').update(sql).digest('hex'),
      );
      expect(row.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row.finished_at, `finished_at of ${row.migration_name}`).to.be.instanceOf(Date);
      expect(row.rolled_back_at).to.equal(null);
      expect(row.applied_steps_count).to.equal(1);
      expect(row.logs).to.equal(null);
    }
  });

  it('refuses to run when an applied migration was changed afterwards', async () => {
    const [first] = migrationFolders();
    await db.pool.query(`UPDATE "_prisma_migrations" SET checksum = repeat('0', 64) WHERE migration_name = $1`, [
      first,
    ]);
    const before = await recorded();
    let error: unknown;
    try {
      await migrateDatabase(db.url);
    } catch (caught) {
      error = caught;
    }
    expect(error, 'migrateDatabase should refuse').to.be.instanceOf(Error);
    expect((error as Error).message).to.equal(`migration ${first} was changed after it was applied`);
    expect(await recorded()).to.deep.equal(before);
  });

  it('refuses to run while a failed migration is unresolved', async () => {
    await db.pool.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs) VALUES (gen_random_uuid(), repeat('a', 64), '99990101000000_broken', 'boom')`,
    );
    let error: unknown;
    try {
      await migrateDatabase(db.url);
    } catch (caught) {
      error = caught;
    }
    expect((error as Error | undefined)?.message).to.match(/migration 99990101000000_broken failed earlier/);
  });
});
