/**
 * Just enough of Avro 1.11 to check a schema against JSON-encoded messages:
 * the JSON encoding's rules (https://avro.apache.org/docs/1.11.1/specification/#json-encoding)
 * for null, boolean, int, long, double, string, record, enum, map and union.
 * A union value other than null is an object with one member named after
 * its branch (the full name for a record or enum), and a record has every
 * field of the schema and no other.
 */

export type AvroSchema =
  | string
  | readonly AvroSchema[]
  | AvroRecord
  | { readonly type: 'enum'; readonly name: string; readonly symbols: readonly string[] }
  | { readonly type: 'map'; readonly values: AvroSchema };

export interface AvroField {
  readonly name: string;
  readonly type: AvroSchema;
  readonly default?: unknown;
}

export interface AvroRecord {
  readonly type: 'record';
  readonly name: string;
  readonly namespace?: string;
  readonly fields: readonly AvroField[];
}

const INT_MAX = 2 ** 31 - 1;

/** `Array.isArray` does not narrow readonly arrays. */
export function isUnion(schema: AvroSchema): schema is readonly AvroSchema[] {
  return Array.isArray(schema);
}

/** The name a union branch is written under in the JSON encoding. */
export function branchName(schema: AvroSchema, namespace: string | undefined): string {
  if (typeof schema === 'string') return schema;
  if (isUnion(schema)) throw new Error('a union cannot directly contain a union');
  const named = schema as { type: string; name?: string; namespace?: string };
  if (named.name === undefined) return named.type;
  if (named.name.includes('.')) return named.name;
  const ns = named.namespace ?? namespace;
  return ns === undefined ? named.name : `${ns}.${named.name}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every way `value` breaks the JSON encoding of `schema` (empty: it is valid). */
export function avroJsonProblems(
  schema: AvroSchema,
  value: unknown,
  path = '$',
  namespace?: string,
): string[] {
  if (isUnion(schema)) {
    const branches = schema;
    if (value === null) return branches.includes('null') ? [] : [`${path}: null is not a branch`];
    if (!isObject(value) || Object.keys(value).length !== 1) {
      return [
        `${path}: a union value must be null or {"<type>": value}, got ${JSON.stringify(value)}`,
      ];
    }
    const [name] = Object.keys(value);
    const branch = branches.find((b) => branchName(b, namespace) === name);
    if (branch === undefined) return [`${path}: "${name}" is not a branch of the union`];
    return avroJsonProblems(branch, value[name as string], `${path}.${name}`, namespace);
  }
  if (typeof schema === 'string') return primitiveProblems(schema, value, path);
  switch (schema.type) {
    case 'record': {
      if (!isObject(value)) return [`${path}: expected an object for record ${schema.name}`];
      const ns = schema.namespace ?? namespace;
      const problems = schema.fields.flatMap((field) =>
        field.name in value
          ? avroJsonProblems(field.type, value[field.name], `${path}.${field.name}`, ns)
          : [`${path}.${field.name}: missing (the JSON encoding has every field)`],
      );
      const known = new Set(schema.fields.map((field) => field.name));
      for (const key of Object.keys(value)) {
        if (!known.has(key)) problems.push(`${path}.${key}: not a field of ${schema.name}`);
      }
      return problems;
    }
    case 'enum':
      return typeof value === 'string' && schema.symbols.includes(value)
        ? []
        : [`${path}: ${JSON.stringify(value)} is not one of ${schema.symbols.join(', ')}`];
    case 'map':
      return isObject(value)
        ? Object.entries(value).flatMap(([key, v]) =>
            avroJsonProblems(schema.values, v, `${path}.${key}`, namespace),
          )
        : [`${path}: expected an object for a map`];
  }
}

function primitiveProblems(type: string, value: unknown, path: string): string[] {
  const ok =
    type === 'null'
      ? value === null
      : type === 'boolean'
        ? typeof value === 'boolean'
        : type === 'int'
          ? Number.isInteger(value) && Math.abs(value as number) <= INT_MAX
          : type === 'long'
            ? Number.isSafeInteger(value)
            : type === 'double' || type === 'float'
              ? typeof value === 'number'
              : type === 'string'
                ? typeof value === 'string'
                : false;
  return ok ? [] : [`${path}: ${JSON.stringify(value)} is not a(n) ${type}`];
}

/**
 * A plain JSON message in the JSON encoding: optional fields that are absent
 * become null, present union values are wrapped in their branch, and fields
 * the record does not have are left out.
 */
export function toAvroJson(schema: AvroSchema, value: unknown, namespace?: string): unknown {
  if (isUnion(schema)) {
    if (value === null || value === undefined) return null;
    const branches = schema.filter((b) => b !== 'null');
    for (const branch of branches) {
      const converted = toAvroJson(branch, value, namespace);
      if (avroJsonProblems(branch, converted, '$', namespace).length === 0) {
        return { [branchName(branch, namespace)]: converted };
      }
    }
    return value;
  }
  if (typeof schema !== 'string' && schema.type === 'record' && isObject(value)) {
    const ns = schema.namespace ?? namespace;
    return Object.fromEntries(
      schema.fields.map((field) => [field.name, toAvroJson(field.type, value[field.name], ns)]),
    );
  }
  return value;
}
