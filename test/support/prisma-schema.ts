// A parser for the subset of the Prisma schema language this repository uses, turned into the database shape
// Prisma would create for it on PostgreSQL (tables, column types, nullability, defaults, keys, indexes, foreign
// keys). test/integration/schema-drift.spec.ts compares that shape with a database migrated from the hand-written
// SQL in prisma/migrations, because `prisma migrate diff` needs a schema engine binary we cannot download.
//
// Anything outside the subset (enums, views, composite types, unknown attributes or native types) is refused with
// an error rather than silently ignored: a guard that skips what it does not understand guards nothing.

/** The shape of a database as far as the drift guard compares it. Every list is sorted by name. */
export interface DatabaseShape {
  tables: TableShape[];
}

export interface TableShape {
  name: string;
  columns: ColumnShape[];
  primaryKey: ConstraintShape | null;
  uniqueIndexes: ConstraintShape[];
  indexes: ConstraintShape[];
  foreignKeys: ForeignKeyShape[];
}

export interface ColumnShape {
  name: string;
  /** As PostgreSQL names it: `text`, `integer`, `numeric(78,0)`, `timestamp(3) with time zone`, … */
  type: string;
  nullable: boolean;
  default: ColumnDefault | null;
}

/**
 * `sequence`: filled by the database from a sequence (serial or identity). `value`: a constant or expression
 * default, normalised by {@link normaliseDefault}; an `expression` of `null` means "some default, not compared"
 * (Prisma's argument-less `dbgenerated()`).
 */
export type ColumnDefault = { kind: 'sequence' } | { kind: 'value'; expression: string | null };

export interface ConstraintShape {
  name: string;
  columns: string[];
}

export type ReferentialAction = 'CASCADE' | 'RESTRICT' | 'NO ACTION' | 'SET NULL' | 'SET DEFAULT';

export interface ForeignKeyShape {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}

export class PrismaSchemaError extends Error {
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `schema.prisma line ${line}: ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------- tokens

type TokenKind = 'ident' | 'string' | 'number' | 'punct' | 'newline';
interface Token {
  kind: TokenKind;
  text: string;
  line: number;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\n') {
      tokens.push({ kind: 'newline', text: '\n', line });
      line++;
      i++;
    } else if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
    } else if (ch === '/' && source[i + 1] === '/') {
      // `//` and `///` comments run to the end of the line.
      while (i < source.length && source[i] !== '\n') i++;
    } else if (ch === '"') {
      let value = '';
      i++;
      for (;;) {
        const c = source[i];
        if (c === undefined || c === '\n') throw new PrismaSchemaError('unterminated string', line);
        i++;
        if (c === '"') break;
        if (c === '\\') {
          const escaped = source[i++];
          if (escaped === undefined) throw new PrismaSchemaError('unterminated string', line);
          value += escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped;
        } else {
          value += c;
        }
      }
      tokens.push({ kind: 'string', text: value, line });
    } else if (/[0-9]/.test(ch) || (ch === '-' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const match = /^-?\d+(?:\.\d+)?/.exec(source.slice(i));
      if (!match) throw new PrismaSchemaError(`unexpected "${ch}"`, line);
      tokens.push({ kind: 'number', text: match[0], line });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(source.slice(i))!;
      tokens.push({ kind: 'ident', text: match[0], line });
      i += match[0].length;
    } else if (ch === '@' && source[i + 1] === '@') {
      tokens.push({ kind: 'punct', text: '@@', line });
      i += 2;
    } else if ('@{}()[],:?=!'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch, line });
      i++;
    } else {
      throw new PrismaSchemaError(`unexpected "${ch}"`, line);
    }
  }
  tokens.push({ kind: 'newline', text: '\n', line });
  return tokens;
}

// ---------------------------------------------------------------------------------------------- syntax tree

type Value =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'ident'; value: string }
  | { kind: 'call'; name: string; args: Arg[] }
  | { kind: 'array'; items: Value[] };

interface Arg {
  name?: string;
  value: Value;
}

interface Attribute {
  name: string;
  args: Arg[];
  line: number;
}

interface FieldNode {
  name: string;
  type: string;
  list: boolean;
  optional: boolean;
  attributes: Attribute[];
  line: number;
}

interface ModelNode {
  name: string;
  fields: FieldNode[];
  attributes: Attribute[];
  line: number;
}

class Parser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  parseModels(): ModelNode[] {
    const models: ModelNode[] = [];
    for (;;) {
      this.skipNewlines();
      const token = this.peek();
      if (!token) return models;
      const keyword = this.expect('ident');
      if (keyword.text === 'generator' || keyword.text === 'datasource') {
        this.expect('ident');
        this.skipBlock();
      } else if (keyword.text === 'model') {
        models.push(this.parseModel(keyword.line));
      } else {
        throw new PrismaSchemaError(`"${keyword.text}" blocks are not supported by the drift guard`, keyword.line);
      }
    }
  }

  private parseModel(line: number): ModelNode {
    const name = this.expect('ident').text;
    this.expectPunct('{');
    const model: ModelNode = { name, fields: [], attributes: [], line };
    for (;;) {
      this.skipNewlines();
      const token = this.peek();
      if (!token) throw new PrismaSchemaError(`model ${name} is not closed`, line);
      if (token.kind === 'punct' && token.text === '}') {
        this.position++;
        return model;
      }
      if (token.kind === 'punct' && token.text === '@@') {
        this.position++;
        model.attributes.push(this.parseAttributeBody(token.line));
      } else {
        model.fields.push(this.parseField());
      }
      this.endOfLine();
    }
  }

  private parseField(): FieldNode {
    const nameToken = this.expect('ident');
    const type = this.expect('ident').text;
    const field: FieldNode = {
      name: nameToken.text,
      type,
      list: false,
      optional: false,
      attributes: [],
      line: nameToken.line,
    };
    if (this.isPunct('[')) {
      this.position++;
      this.expectPunct(']');
      field.list = true;
    }
    if (this.isPunct('?')) {
      this.position++;
      field.optional = true;
    }
    while (this.isPunct('@')) {
      const at = this.tokens[this.position++]!;
      field.attributes.push(this.parseAttributeBody(at.line));
    }
    return field;
  }

  /** `name` or `name(args)` after `@` / `@@`. */
  private parseAttributeBody(line: number): Attribute {
    const name = this.expect('ident').text;
    const args = this.isPunct('(') ? this.parseArgs() : [];
    return { name, args, line };
  }

  private parseArgs(): Arg[] {
    this.expectPunct('(');
    const args: Arg[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.isPunct(')')) {
        this.position++;
        return args;
      }
      if (args.length > 0) {
        this.expectPunct(',');
        this.skipNewlines();
      }
      const next = this.tokens[this.position + 1];
      if (this.peek()?.kind === 'ident' && next?.kind === 'punct' && next.text === ':') {
        const name = this.expect('ident').text;
        this.position++;
        this.skipNewlines();
        args.push({ name, value: this.parseValue() });
      } else {
        args.push({ value: this.parseValue() });
      }
    }
  }

  private parseValue(): Value {
    const token = this.peek();
    if (!token) throw new PrismaSchemaError('unexpected end of schema');
    if (token.kind === 'string') {
      this.position++;
      return { kind: 'string', value: token.text };
    }
    if (token.kind === 'number') {
      this.position++;
      return { kind: 'number', value: token.text };
    }
    if (token.kind === 'ident') {
      this.position++;
      if (this.isPunct('(')) return { kind: 'call', name: token.text, args: this.parseArgs() };
      return { kind: 'ident', value: token.text };
    }
    if (token.kind === 'punct' && token.text === '[') {
      this.position++;
      const items: Value[] = [];
      for (;;) {
        this.skipNewlines();
        if (this.isPunct(']')) {
          this.position++;
          return { kind: 'array', items };
        }
        if (items.length > 0) {
          this.expectPunct(',');
          this.skipNewlines();
        }
        items.push(this.parseValue());
      }
    }
    throw new PrismaSchemaError(`unexpected "${token.text}"`, token.line);
  }

  private skipBlock(): void {
    this.expectPunct('{');
    let depth = 1;
    while (depth > 0) {
      const token = this.tokens[this.position++];
      if (!token) throw new PrismaSchemaError('unclosed block');
      if (token.kind === 'punct' && token.text === '{') depth++;
      if (token.kind === 'punct' && token.text === '}') depth--;
    }
  }

  private endOfLine(): void {
    const token = this.peek();
    if (!token || token.kind === 'newline' || (token.kind === 'punct' && token.text === '}')) return;
    throw new PrismaSchemaError(`unexpected "${token.text}"`, token.line);
  }

  private skipNewlines(): void {
    while (this.tokens[this.position]?.kind === 'newline') this.position++;
  }

  /** The next token, or undefined at the end (the trailing newline counts as the end). */
  private peek(): Token | undefined {
    const token = this.tokens[this.position];
    if (!token || (token.kind === 'newline' && this.position === this.tokens.length - 1)) return undefined;
    return token;
  }

  private isPunct(text: string): boolean {
    const token = this.tokens[this.position];
    return token?.kind === 'punct' && token.text === text;
  }

  private expect(kind: TokenKind): Token {
    const token = this.tokens[this.position];
    if (!token || token.kind !== kind) {
      throw new PrismaSchemaError(`expected ${kind}, found "${token?.text ?? 'end of schema'}"`, token?.line);
    }
    this.position++;
    return token;
  }

  private expectPunct(text: string): void {
    const token = this.tokens[this.position];
    if (!token || token.kind !== 'punct' || token.text !== text) {
      throw new PrismaSchemaError(
        `expected "${text}", found "${token?.text.replace('\n', 'end of line') ?? 'end of schema'}"`,
        token?.line,
      );
    }
    this.position++;
  }
}

// ---------------------------------------------------------------------------------------------- semantics

const SCALARS = new Set(['String', 'Int', 'BigInt', 'Boolean', 'DateTime', 'Decimal', 'Json', 'Float', 'Bytes']);
const FIELD_ATTRIBUTES = new Set(['id', 'unique', 'default', 'map', 'updatedAt', 'relation', 'ignore']);
const BLOCK_ATTRIBUTES = new Set(['id', 'unique', 'index', 'map']);
/** PostgreSQL's identifier limit; Prisma shortens generated constraint names to fit. */
const MAX_IDENTIFIER = 63;

const ACTIONS: Record<string, ReferentialAction> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

/** Parses schema.prisma text into the PostgreSQL shape `prisma migrate` would produce for it. */
export function parsePrismaSchema(source: string): DatabaseShape {
  const models = new Parser(tokenize(source)).parseModels();
  const byName = new Map<string, ModelNode>();
  for (const model of models) {
    if (byName.has(model.name)) throw new PrismaSchemaError(`model ${model.name} is declared twice`, model.line);
    byName.set(model.name, model);
  }
  const tables = models.map((model) => modelToTable(model, byName));
  const seen = new Set<string>();
  for (const table of tables) {
    if (seen.has(table.name)) throw new PrismaSchemaError(`two models map to table "${table.name}"`);
    seen.add(table.name);
  }
  return { tables: tables.sort(byKey) };
}

function tableName(model: ModelNode): string {
  const map = model.attributes.find((a) => a.name === 'map');
  return map ? stringArg(map, 0, 'name') : model.name;
}

function columnName(field: FieldNode): string {
  const map = field.attributes.find((a) => a.name === 'map');
  return map ? stringArg(map, 0, 'name') : field.name;
}

function isRelationField(field: FieldNode, models: Map<string, ModelNode>): boolean {
  if (models.has(field.type)) return true;
  if (SCALARS.has(field.type)) return false;
  throw new PrismaSchemaError(`field ${field.name} has unsupported type ${field.type}`, field.line);
}

function modelToTable(model: ModelNode, models: Map<string, ModelNode>): TableShape {
  const table = tableName(model);
  const scalarFields = model.fields.filter((field) => !isRelationField(field, models));
  const columnOf = (fieldName: string, line: number): string => {
    const field = scalarFields.find((f) => f.name === fieldName);
    if (!field) throw new PrismaSchemaError(`model ${model.name} has no scalar field ${fieldName}`, line);
    return columnName(field);
  };

  const columns: ColumnShape[] = [];
  let primaryKey: ConstraintShape | null = null;
  const uniqueIndexes: ConstraintShape[] = [];
  const indexes: ConstraintShape[] = [];
  const foreignKeys: ForeignKeyShape[] = [];

  for (const field of scalarFields) {
    for (const attribute of field.attributes) {
      if (!FIELD_ATTRIBUTES.has(attribute.name) && !attribute.name.startsWith('db.')) {
        throw new PrismaSchemaError(`attribute @${attribute.name} is not supported by the drift guard`, attribute.line);
      }
      if (attribute.name === 'relation') {
        throw new PrismaSchemaError(`@relation on scalar field ${field.name}`, attribute.line);
      }
      if (attribute.name === 'ignore') {
        throw new PrismaSchemaError('@ignore is not supported by the drift guard', attribute.line);
      }
    }
    if (field.list) throw new PrismaSchemaError(`scalar lists (${field.name}) are not supported`, field.line);
    for (const attribute of field.attributes) {
      if (attribute.name === 'id' || attribute.name === 'unique') allowArgs(attribute, ['map']);
      if (attribute.name === 'map') allowArgs(attribute, ['name']);
      if (attribute.name === 'default') allowArgs(attribute, ['value', 'map']);
    }
    const name = columnName(field);
    const nativeType = field.attributes.filter((a) => a.name.startsWith('db.'));
    if (nativeType.length > 1) throw new PrismaSchemaError(`field ${field.name} has two native types`, field.line);
    const defaultAttribute = field.attributes.find((a) => a.name === 'default');
    const idAttribute = field.attributes.find((a) => a.name === 'id');
    columns.push({
      name,
      type: columnType(field, nativeType[0]),
      nullable: field.optional,
      default: defaultAttribute ? columnDefault(field, defaultAttribute) : null,
    });
    if (idAttribute) {
      if (primaryKey) throw new PrismaSchemaError(`model ${model.name} has two primary keys`, idAttribute.line);
      if (field.optional) throw new PrismaSchemaError(`primary key field ${field.name} cannot be optional`, field.line);
      primaryKey = {
        name: optionalStringArg(idAttribute, 'map') ?? constraintName(table, [], '_pkey'),
        columns: [name],
      };
    }
    const unique = field.attributes.find((a) => a.name === 'unique');
    if (unique) {
      uniqueIndexes.push({
        name: optionalStringArg(unique, 'map') ?? constraintName(table, [name], '_key'),
        columns: [name],
      });
    }
  }

  for (const attribute of model.attributes) {
    if (!BLOCK_ATTRIBUTES.has(attribute.name)) {
      throw new PrismaSchemaError(`attribute @@${attribute.name} is not supported by the drift guard`, attribute.line);
    }
    allowArgs(attribute, attribute.name === 'map' ? ['name'] : ['fields', 'map', 'name']);
    if (attribute.name === 'map') continue;
    const fieldsValue = attribute.args.find((a) => a.name === 'fields' || a.name === undefined)?.value;
    if (fieldsValue?.kind !== 'array')
      throw new PrismaSchemaError(`@@${attribute.name} needs a list of fields`, attribute.line);
    const cols = fieldsValue.items.map((item) => columnOf(fieldReference(item, attribute.line), attribute.line));
    const map = optionalStringArg(attribute, 'map');
    if (attribute.name === 'id') {
      if (primaryKey) throw new PrismaSchemaError(`model ${model.name} has two primary keys`, attribute.line);
      primaryKey = { name: map ?? constraintName(table, [], '_pkey'), columns: cols };
    } else if (attribute.name === 'unique') {
      uniqueIndexes.push({ name: map ?? constraintName(table, cols, '_key'), columns: cols });
    } else {
      indexes.push({ name: map ?? constraintName(table, cols, '_idx'), columns: cols });
    }
  }

  for (const field of model.fields.filter((f) => isRelationField(f, models))) {
    for (const attribute of field.attributes) {
      if (attribute.name !== 'relation') {
        throw new PrismaSchemaError(`attribute @${attribute.name} on relation field ${field.name}`, attribute.line);
      }
    }
    const relation = field.attributes.find((a) => a.name === 'relation');
    if (relation) allowArgs(relation, ['name', 'fields', 'references', 'onDelete', 'onUpdate', 'map']);
    const fieldsArg = relation?.args.find((a) => a.name === 'fields');
    if (!relation || !fieldsArg) continue; // the back side of a relation: no column, no constraint
    if (field.list) throw new PrismaSchemaError(`list field ${field.name} cannot hold the foreign key`, field.line);
    const target = models.get(field.type)!;
    const referencesArg = relation.args.find((a) => a.name === 'references');
    if (fieldsArg.value.kind !== 'array' || referencesArg?.value.kind !== 'array') {
      throw new PrismaSchemaError(
        `@relation on ${field.name} needs fields: [...] and references: [...]`,
        relation.line,
      );
    }
    const cols = fieldsArg.value.items.map((item) => columnOf(fieldReference(item, relation.line), relation.line));
    const referencedColumns = referencesArg.value.items.map((item) => {
      const targetFieldName = fieldReference(item, relation.line);
      const targetField = target.fields.find((f) => f.name === targetFieldName);
      if (!targetField)
        throw new PrismaSchemaError(`model ${target.name} has no field ${targetFieldName}`, relation.line);
      return columnName(targetField);
    });
    if (cols.length !== referencedColumns.length) {
      throw new PrismaSchemaError(`@relation on ${field.name}: fields and references differ in length`, relation.line);
    }
    // Prisma's defaults: an optional relation sets null on delete, a required one restricts; updates cascade.
    const optionalRelation = field.optional;
    foreignKeys.push({
      name: optionalStringArg(relation, 'map') ?? constraintName(table, cols, '_fkey'),
      columns: cols,
      referencedTable: tableName(target),
      referencedColumns,
      onDelete: referentialAction(relation, 'onDelete') ?? (optionalRelation ? 'SET NULL' : 'RESTRICT'),
      onUpdate: referentialAction(relation, 'onUpdate') ?? 'CASCADE',
    });
  }

  if (columns.length === 0) throw new PrismaSchemaError(`model ${model.name} has no columns`, model.line);
  return {
    name: table,
    columns: columns.sort(byKey),
    primaryKey,
    uniqueIndexes: uniqueIndexes.sort(byKey),
    indexes: indexes.sort(byKey),
    foreignKeys: foreignKeys.sort(byKey),
  };
}

/** Prisma's default constraint names (`users_referrer_id_idx`), shortened the way it does past 63 bytes. */
function constraintName(table: string, columns: string[], suffix: string): string {
  const base = [table, ...columns].join('_');
  return base.length + suffix.length > MAX_IDENTIFIER
    ? base.slice(0, MAX_IDENTIFIER - suffix.length) + suffix
    : base + suffix;
}

function fieldReference(value: Value, line: number): string {
  if (value.kind === 'ident') return value.value;
  if (value.kind === 'call') {
    throw new PrismaSchemaError(`${value.name}(…): sort, length and operator classes are not supported`, line);
  }
  throw new PrismaSchemaError('expected a field name', line);
}

/** Refuses named arguments the guard does not model (`type: Hash`, `sort:`, `clustered:` …). */
function allowArgs(attribute: Attribute, names: string[]): void {
  for (const arg of attribute.args) {
    if (arg.name !== undefined && !names.includes(arg.name)) {
      throw new PrismaSchemaError(
        `${arg.name}: on @${attribute.name} is not supported by the drift guard`,
        attribute.line,
      );
    }
  }
}

function referentialAction(attribute: Attribute, name: string): ReferentialAction | undefined {
  const arg = attribute.args.find((a) => a.name === name);
  if (!arg) return undefined;
  if (arg.value.kind !== 'ident' || !(arg.value.value in ACTIONS)) {
    throw new PrismaSchemaError(`${name} must be one of ${Object.keys(ACTIONS).join(', ')}`, attribute.line);
  }
  return ACTIONS[arg.value.value];
}

function stringArg(attribute: Attribute, index: number, name: string): string {
  const arg = attribute.args.find((a) => a.name === name) ?? attribute.args.filter((a) => !a.name)[index];
  if (arg?.value.kind !== 'string') throw new PrismaSchemaError(`@${attribute.name} needs a string`, attribute.line);
  return arg.value.value;
}

function optionalStringArg(attribute: Attribute, name: string): string | undefined {
  const arg = attribute.args.find((a) => a.name === name);
  if (!arg) return undefined;
  if (arg.value.kind !== 'string') throw new PrismaSchemaError(`${name}: needs a string`, attribute.line);
  return arg.value.value;
}

function numberArgs(attribute: Attribute | undefined): number[] {
  return (attribute?.args ?? []).map((arg) => {
    if (arg.value.kind !== 'number') throw new PrismaSchemaError(`@${attribute!.name} takes numbers`, attribute!.line);
    return Number(arg.value.value);
  });
}

/** The column type as PostgreSQL reports it for what Prisma's migration SQL would declare. */
function columnType(field: FieldNode, native: Attribute | undefined): string {
  const nativeName = native?.name.slice(3);
  const args = numberArgs(native);
  const allowed: Record<string, string[]> = {
    String: ['Text', 'VarChar', 'Char', 'Uuid', 'Xml', 'Inet', 'Citext', 'Bit', 'VarBit'],
    Int: ['Integer', 'SmallInt', 'Oid'],
    BigInt: ['BigInt'],
    Boolean: ['Boolean'],
    DateTime: ['Timestamp', 'Timestamptz', 'Date', 'Time', 'Timetz'],
    Decimal: ['Decimal', 'Money'],
    Float: ['DoublePrecision', 'Real'],
    Json: ['Json', 'JsonB'],
    Bytes: ['ByteA'],
  };
  if (nativeName && !allowed[field.type]!.includes(nativeName)) {
    throw new PrismaSchemaError(`@db.${nativeName} is not supported on ${field.type} by the drift guard`, native!.line);
  }
  const withLength = (name: string) => (args.length ? `${name}(${args[0]})` : name);
  const timeWithPrecision = (name: string, zone: string) => `${name}(${args[0] ?? 6}) ${zone} time zone`;
  switch (nativeName ?? field.type) {
    case 'String':
    case 'Text':
      return 'text';
    case 'VarChar':
      return withLength('character varying');
    case 'Char':
      return withLength('character');
    case 'Uuid':
      return 'uuid';
    case 'Xml':
      return 'xml';
    case 'Inet':
      return 'inet';
    case 'Citext':
      return 'citext';
    case 'Bit':
      return withLength('bit');
    case 'VarBit':
      return withLength('bit varying');
    case 'Int':
    case 'Integer':
      return 'integer';
    case 'SmallInt':
      return 'smallint';
    case 'Oid':
      return 'oid';
    case 'BigInt':
      return 'bigint';
    case 'Boolean':
      return 'boolean';
    case 'DateTime':
      return 'timestamp(3) without time zone';
    case 'Timestamp':
      return timeWithPrecision('timestamp', 'without');
    case 'Timestamptz':
      return timeWithPrecision('timestamp', 'with');
    case 'Time':
      return timeWithPrecision('time', 'without');
    case 'Timetz':
      return timeWithPrecision('time', 'with');
    case 'Date':
      return 'date';
    case 'Decimal':
      return native ? (args.length ? `numeric(${args[0]},${args[1] ?? 0})` : 'numeric') : 'numeric(65,30)';
    case 'Money':
      return 'money';
    case 'Float':
    case 'DoublePrecision':
      return 'double precision';
    case 'Real':
      return 'real';
    case 'Json':
      return native ? 'json' : 'jsonb';
    case 'JsonB':
      return 'jsonb';
    case 'Bytes':
    case 'ByteA':
      return 'bytea';
    default:
      throw new PrismaSchemaError(`type ${field.type} is not supported`, field.line);
  }
}

function columnDefault(field: FieldNode, attribute: Attribute): ColumnDefault | null {
  const value = attribute.args[0]?.value;
  if (!value) throw new PrismaSchemaError(`@default on ${field.name} needs a value`, attribute.line);
  switch (value.kind) {
    case 'call':
      switch (value.name) {
        case 'autoincrement':
          if (!['Int', 'BigInt'].includes(field.type)) {
            throw new PrismaSchemaError(`autoincrement() on ${field.type} field ${field.name}`, attribute.line);
          }
          return { kind: 'sequence' };
        case 'now':
          return { kind: 'value', expression: 'CURRENT_TIMESTAMP' };
        case 'dbgenerated': {
          const expression = value.args[0]?.value;
          if (!expression) return { kind: 'value', expression: null };
          if (expression.kind !== 'string') throw new PrismaSchemaError('dbgenerated() takes a string', attribute.line);
          return { kind: 'value', expression: normaliseDefault(expression.value) };
        }
        case 'uuid':
        case 'cuid':
        case 'nanoid':
        case 'ulid':
          return null; // generated by Prisma Client, not by the database
        default:
          throw new PrismaSchemaError(`@default(${value.name}()) is not supported by the drift guard`, attribute.line);
      }
    case 'string':
      return { kind: 'value', expression: normaliseDefault(`'${value.value.replace(/'/g, "''")}'`) };
    case 'number':
      return { kind: 'value', expression: normaliseDefault(value.value) };
    case 'ident':
      if (value.value === 'true' || value.value === 'false') return { kind: 'value', expression: value.value };
      throw new PrismaSchemaError(`@default(${value.value}) is not supported (enums are not)`, attribute.line);
    case 'array':
      throw new PrismaSchemaError('list defaults are not supported', attribute.line);
  }
}

/**
 * Puts a default expression in a canonical form so the schema's and PostgreSQL's spellings compare equal:
 * casts dropped (`'seen'::text` → `'seen'`), `now()` written as `CURRENT_TIMESTAMP`, quoted numbers unquoted
 * and numbers without redundant zeros (`'-1'::integer` → `-1`, `0.50` → `0.5`).
 */
export function normaliseDefault(expression: string): string {
  let text = expression.trim();
  for (;;) {
    const before = text;
    text = text.replace(/::[a-z_][a-z0-9_ ]*(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?$/i, '').trim();
    if (/^\((.*)\)$/s.test(text) && balanced(text.slice(1, -1))) text = text.slice(1, -1).trim();
    if (text === before) break;
  }
  if (/^now\(\)$/i.test(text) || /^current_timestamp$/i.test(text)) return 'CURRENT_TIMESTAMP';
  const number = /^'?(-?)0*(\d+?)(?:\.(\d*?)0*)?'?$/.exec(text);
  if (number && text.startsWith("'") === text.endsWith("'")) {
    const [, sign, whole, fraction] = number;
    const result = `${whole}${fraction ? `.${fraction}` : ''}`;
    return result === '0' ? '0' : `${sign}${result}`;
  }
  return text;
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function byKey<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------- comparison

/**
 * Every way `actual` (the migrated database) differs from `expected` (schema.prisma), one readable line each;
 * empty when they agree.
 */
export function compareShapes(expected: DatabaseShape, actual: DatabaseShape): string[] {
  const problems: string[] = [];
  const actualTables = new Map(actual.tables.map((t) => [t.name, t]));
  const expectedTables = new Map(expected.tables.map((t) => [t.name, t]));
  for (const table of expected.tables) {
    if (!actualTables.has(table.name))
      problems.push(`table ${table.name}: in schema.prisma, missing from the database`);
  }
  for (const table of actual.tables) {
    if (!expectedTables.has(table.name)) problems.push(`table ${table.name}: in the database, not in schema.prisma`);
  }
  for (const want of expected.tables) {
    const have = actualTables.get(want.name);
    if (have) problems.push(...compareTables(want, have));
  }
  return problems;
}

function compareTables(want: TableShape, have: TableShape): string[] {
  const t = want.name;
  const problems: string[] = [];
  const haveColumns = new Map(have.columns.map((c) => [c.name, c]));
  const wantColumns = new Map(want.columns.map((c) => [c.name, c]));
  for (const column of want.columns) {
    const actual = haveColumns.get(column.name);
    if (!actual) {
      problems.push(`column ${t}.${column.name}: in schema.prisma, missing from the database`);
      continue;
    }
    if (actual.type !== column.type) {
      problems.push(
        `column ${t}.${column.name}: type is ${actual.type} in the database, ${column.type} in schema.prisma`,
      );
    }
    if (actual.nullable !== column.nullable) {
      problems.push(
        `column ${t}.${column.name}: ${actual.nullable ? 'nullable' : 'NOT NULL'} in the database, ` +
          `${column.nullable ? 'optional (nullable)' : 'required (NOT NULL)'} in schema.prisma`,
      );
    }
    const defaultProblem = compareDefaults(column.default, actual.default);
    if (defaultProblem) problems.push(`column ${t}.${column.name}: ${defaultProblem}`);
  }
  for (const column of have.columns) {
    if (!wantColumns.has(column.name))
      problems.push(`column ${t}.${column.name}: in the database, not in schema.prisma`);
  }

  const key = (c: ConstraintShape | null) => (c ? `${c.name} (${c.columns.join(', ')})` : 'none');
  if (key(want.primaryKey) !== key(have.primaryKey)) {
    problems.push(
      `table ${t}: primary key is ${key(have.primaryKey)} in the database, ${key(want.primaryKey)} in schema.prisma`,
    );
  }
  problems.push(...compareConstraintLists(t, 'unique index', want.uniqueIndexes, have.uniqueIndexes, key));
  problems.push(...compareConstraintLists(t, 'index', want.indexes, have.indexes, key));
  const fk = (f: ForeignKeyShape) =>
    `${f.name} (${f.columns.join(', ')}) → ${f.referencedTable} (${f.referencedColumns.join(', ')}) ` +
    `ON DELETE ${f.onDelete} ON UPDATE ${f.onUpdate}`;
  problems.push(...compareConstraintLists(t, 'foreign key', want.foreignKeys, have.foreignKeys, fk));
  return problems;
}

function compareConstraintLists<T extends { name: string }>(
  table: string,
  what: string,
  want: T[],
  have: T[],
  describe: (item: T) => string,
): string[] {
  const problems: string[] = [];
  const haveByName = new Map(have.map((item) => [item.name, item]));
  const wantByName = new Map(want.map((item) => [item.name, item]));
  for (const item of want) {
    const actual = haveByName.get(item.name);
    if (!actual) problems.push(`${what} on ${table}: ${describe(item)} in schema.prisma, missing from the database`);
    else if (describe(actual) !== describe(item)) {
      problems.push(`${what} on ${table}: ${describe(actual)} in the database, ${describe(item)} in schema.prisma`);
    }
  }
  for (const item of have) {
    if (!wantByName.has(item.name))
      problems.push(`${what} on ${table}: ${describe(item)} in the database, not in schema.prisma`);
  }
  return problems;
}

function compareDefaults(want: ColumnDefault | null, have: ColumnDefault | null): string | undefined {
  const show = (d: ColumnDefault | null) =>
    !d
      ? 'no default'
      : d.kind === 'sequence'
        ? 'a sequence default (autoincrement)'
        : `default ${d.expression ?? '(any)'}`;
  if (!want && !have) return undefined;
  if (want?.kind === 'sequence' && have?.kind === 'sequence') return undefined;
  if (want?.kind === 'value' && have?.kind === 'value') {
    if (want.expression === null || want.expression === have.expression) return undefined;
  }
  return `${show(have)} in the database, ${show(want)} in schema.prisma`;
}
