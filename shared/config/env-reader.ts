import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../errors.js';

/** An environment as process.env has it; tests pass a literal instead. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the variables a TypeBox schema declares (its property names are the
 * variable names) from `env`: defaults applied, strings converted to the
 * declared types, every problem collected into one ConfigError so a
 * misconfigured deployable fails at cold start listing all of them at once.
 * Empty strings count as unset (`FOO=` in a .env file). Other variables are
 * ignored.
 */
export function readEnv<S extends TObject>(
  schema: S,
  env: Env,
  crossChecks: (vars: Static<S>) => readonly string[] = () => [],
): Static<S> {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim();
  }
  const candidate: unknown = Value.Convert(schema, Value.Default(schema, raw));
  const problems = [...Value.Errors(schema, candidate)].map((error) => {
    const key = error.path.replace(/^\//, '');
    const got = raw[key];
    const expected = describeExpected(error.schema, error.message);
    return got === undefined
      ? `${key} is required (${expected})`
      : `${key}=${JSON.stringify(got)} is invalid: ${expected}`;
  });
  // Cross-field rules only make sense once every single value is valid.
  if (problems.length === 0) problems.push(...crossChecks(candidate as Static<S>));
  if (problems.length > 0) throw new ConfigError(dedupe(problems));
  return candidate as Static<S>;
}

/** "one of local, gcp" for enumerations; TypeBox's own message otherwise. */
function describeExpected(schema: TSchema, fallback: string): string {
  const options = (schema.anyOf as TSchema[] | undefined)
    ?.map((option) => option.const as unknown)
    .filter((value): value is string | number => ['string', 'number'].includes(typeof value));
  if (options && options.length > 0) return `expected one of ${options.join(', ')}`;
  return fallback;
}

function dedupe(items: readonly string[]): string[] {
  return [...new Set(items)];
}
