/**
 * A validator for the part of JSON Schema (2020-12) that docs/events.schema.json uses, and no
 * more: a schema using any other keyword is refused, so the schema can never say something this
 * silently ignores. Returns the violations, each with the JSON pointer of the value.
 */

type Schema = { readonly [keyword: string]: unknown };

const SUPPORTED = new Set([
  '$schema',
  'title',
  'description',
  '$defs',
  '$ref',
  'oneOf',
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minimum',
  'pattern',
]);

export function validate(root: Schema, value: unknown): string[] {
  checkKeywords(root, '#');
  return check(root, root, value, '');
}

function check(root: Schema, schema: Schema, value: unknown, at: string): string[] {
  if (typeof schema['$ref'] === 'string') return check(root, resolve(root, schema['$ref']), value, at);
  if (Array.isArray(schema['oneOf'])) {
    const matching = (schema['oneOf'] as Schema[]).filter((branch) => check(root, branch, value, at).length === 0);
    if (matching.length === 1) return [];
    return [`${at || '/'}: matches ${matching.length} of the oneOf branches, not exactly one${matching.length === 0 ? closest(root, schema['oneOf'] as Schema[], value, at) : ''}`];
  }
  const problems: string[] = [];
  if (schema['type'] !== undefined) {
    const types = Array.isArray(schema['type']) ? (schema['type'] as string[]) : [schema['type'] as string];
    if (!types.some((t) => hasType(value, t))) return [`${at || '/'}: ${JSON.stringify(value)} is not of type ${types.join(' or ')}`];
  }
  if ('const' in schema && value !== schema['const']) problems.push(`${at || '/'}: ${JSON.stringify(value)} is not ${JSON.stringify(schema['const'])}`);
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) problems.push(`${at || '/'}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema['enum'])}`);
  if (typeof schema['minimum'] === 'number' && typeof value === 'number' && value < schema['minimum']) problems.push(`${at}: ${value} < ${schema['minimum']}`);
  if (typeof schema['pattern'] === 'string' && typeof value === 'string' && !new RegExp(schema['pattern'], 'u').test(value)) {
    problems.push(`${at}: ${JSON.stringify(value)} does not match ${schema['pattern']}`);
  }
  if (Array.isArray(value) && schema['items'] !== undefined) {
    value.forEach((item, i) => problems.push(...check(root, schema['items'] as Schema, item, `${at}/${i}`)));
  }
  if (isObject(value)) problems.push(...checkObject(root, schema, value, at));
  return problems;
}

function checkObject(root: Schema, schema: Schema, value: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
  for (const key of (schema['required'] ?? []) as string[]) if (!(key in value)) problems.push(`${at}/${key}: required, missing`);
  for (const [key, item] of Object.entries(value)) {
    const sub = properties[key];
    if (sub) problems.push(...check(root, sub, item, `${at}/${key}`));
    else if (schema['additionalProperties'] === false) problems.push(`${at}/${key}: not allowed here`);
  }
  return problems;
}

/** For a value no branch takes: the branch whose "event" const it names, and why that one refused it. */
function closest(root: Schema, branches: Schema[], value: unknown, at: string): string {
  if (!isObject(value)) return '';
  for (const branch of branches) {
    const target = typeof branch['$ref'] === 'string' ? resolve(root, branch['$ref']) : branch;
    const event = ((target['properties'] ?? {}) as Record<string, Schema>)['event'];
    if (event && event['const'] === value['event']) return ` (as ${String(value['event'])}: ${check(root, target, value, at).join('; ')})`;
  }
  return ` (no branch for event ${JSON.stringify(value['event'])})`;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      throw new Error(`unsupported type ${type}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (!isObject(node)) throw new Error(`$ref ${ref} points at nothing`);
  return node;
}

/** Every keyword of every subschema is one this validator applies (or ignores by design: title, description). */
function checkKeywords(schema: Schema, at: string): void {
  for (const [keyword, value] of Object.entries(schema)) {
    if (!SUPPORTED.has(keyword)) throw new Error(`${at}: keyword ${keyword} is not supported by this validator`);
    if (keyword === '$defs' || keyword === 'properties') {
      for (const [name, sub] of Object.entries(value as Record<string, Schema>)) checkKeywords(sub, `${at}/${keyword}/${name}`);
    } else if (keyword === 'oneOf') {
      (value as Schema[]).forEach((sub, i) => checkKeywords(sub, `${at}/oneOf/${i}`));
    } else if (keyword === 'items') {
      checkKeywords(value as Schema, `${at}/items`);
    }
  }
}
