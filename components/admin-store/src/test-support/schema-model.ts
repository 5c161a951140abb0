// Test support: reads prisma/schema.prisma into models and fields, enough to check the hand-written
// migrations against it (the schema engine that would do this is not available). Handles the subset of
// the schema language Veil uses: models, enums, @id, @map, @@map, @default, @updatedAt, @db.*, relations.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));

export interface SchemaField {
  name: string;
  column: string;
  /** Prisma scalar type or enum name. */
  type: string;
  optional: boolean;
  isEnum: boolean;
  isId: boolean;
  autoincrement: boolean;
  /** The @db.X(...) native type, e.g. `Timestamptz(3)`, or null. */
  nativeType: string | null;
}

export interface SchemaModel {
  name: string;
  table: string;
  /** Scalar fields only (relation fields are left out). */
  fields: SchemaField[];
}

export interface SchemaEnum {
  name: string;
  dbName: string;
  values: string[];
}

export interface ParsedSchema {
  models: SchemaModel[];
  enums: SchemaEnum[];
}

const SCALARS = new Set(['String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes']);

export function readSchema(path: string = SCHEMA_PATH): ParsedSchema {
  const text = readFileSync(path, 'utf8').replace(/\/\/.*$/gm, '');
  const blocks = [...text.matchAll(/^(model|enum)\s+(\w+)\s*\{([^}]*)\}/gm)];
  const enums = blocks.filter((b) => b[1] === 'enum').map((b) => parseEnum(b[2]!, b[3]!));
  const enumNames = new Set(enums.map((e) => e.name));
  const models = blocks.filter((b) => b[1] === 'model').map((b) => parseModel(b[2]!, b[3]!, enumNames));
  return { models, enums };
}

function parseEnum(name: string, body: string): SchemaEnum {
  const lines = body.split('\n').map((l) => l.trim()).filter(Boolean);
  return {
    name,
    dbName: mapped(lines.find((l) => l.startsWith('@@map')) ?? '') ?? name,
    values: lines.filter((l) => !l.startsWith('@@')).map((l) => l.split(/\s+/)[0]!),
  };
}

function parseModel(name: string, body: string, enumNames: Set<string>): SchemaModel {
  const lines = body.split('\n').map((l) => l.trim()).filter(Boolean);
  const table = mapped(lines.find((l) => l.startsWith('@@map')) ?? '') ?? name;
  const fields: SchemaField[] = [];
  for (const line of lines) {
    if (line.startsWith('@@')) continue;
    const match = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
    if (!match) throw new Error(`cannot read field line in model ${name}: ${line}`);
    const [, fieldName, type, list, optional, attributes] = match as unknown as [string, string, string, string | undefined, string | undefined, string];
    const isEnum = enumNames.has(type);
    if (list || (!SCALARS.has(type) && !isEnum)) continue; // a relation field
    fields.push({
      name: fieldName,
      column: mapped(attributes) ?? fieldName,
      type,
      optional: optional === '?',
      isEnum,
      isId: /@id\b/.test(attributes),
      autoincrement: /@default\(autoincrement\(\)\)/.test(attributes),
      nativeType: /@db\.(\w+(\([^)]*\))?)/.exec(attributes)?.[1] ?? null,
    });
  }
  return { name, table, fields };
}

function mapped(attributes: string): string | null {
  return /@@?map\("([^"]+)"\)/.exec(attributes)?.[1] ?? null;
}
