/**
 * Per-endpoint settings given as one JSON variable (`{"endpoint-id": {...}}`,
 * e.g. REPLAY_ENDPOINTS): parsed, checked against the entry schema and the
 * event contract's endpoint id pattern (TypeBox's Record does not check its
 * keys), every problem named with the variable and the JSON path.
 */
import { ID_PATTERN } from '@recdeploy/events';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** The entries of `text` (empty when unset or invalid; the problems are pushed onto `problems`). */
export function endpointsJsonOf<S extends TSchema>(
  variable: string,
  text: string | undefined,
  entrySchema: S,
  problems: string[],
): Record<string, Static<S>> {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    problems.push(`${variable} is not JSON: ${(error as Error).message}`);
    return {};
  }
  const errors = [...Value.Errors(Type.Record(Type.String(), entrySchema), parsed)];
  if (errors.length > 0) {
    problems.push(
      ...errors.slice(0, 5).map((e) => `${variable}${e.path.replaceAll('/', '.')}: ${e.message}`),
    );
    return {};
  }
  const endpoints = parsed as Record<string, Static<S>>;
  const badIds = Object.keys(endpoints).filter((id) => !ID_PATTERN.test(id));
  if (badIds.length > 0) {
    problems.push(
      `${variable}: ${badIds.map((id) => JSON.stringify(id)).join(', ')} ${badIds.length === 1 ? 'is not an endpoint id' : 'are not endpoint ids'} (letters, digits, ".", "_", ":" and "-")`,
    );
    return {};
  }
  return endpoints;
}
