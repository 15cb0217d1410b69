/**
 * What every event contract file provides besides its schema: a name, a
 * version, the topic it travels on, and the file its JSON Schema is published
 * as. Publishers use the builder; subscribers use the parser.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { EventRejection } from './result.js';
import { RUN_ID_PATTERN } from './fields.js';
import { readStringField, validateAgainstSchema } from './validation/validate.js';

/** One versioned event contract. */
export interface EventContract<S extends TObject = TObject> {
  /** Event name, also the Pub/Sub topic id (e.g. `training-completed`). */
  readonly name: string;
  /** Major version; equals the `schema_version` the payload carries. */
  readonly version: number;
  /** The Pub/Sub topic the event is published on. */
  readonly topic: string;
  /** The TypeBox schema: the single source of the JSON Schema and the TypeScript type. */
  readonly schema: S;
  /** File name under `events/schemas/` (`{name}.v{version}.json`). */
  readonly schemaFile: string;
}

/** Declares a contract; the schema file name follows from name and version. */
export function defineContract<S extends TObject>(
  name: string,
  version: number,
  schema: S,
): EventContract<S> {
  return { name, version, topic: name, schema, schemaFile: `${name}.v${version}.json` };
}

/** Thrown by builders when a publisher tries to build an event that breaks its contract. */
export class EventContractError extends Error {
  /** Same code a subscriber would reject the event with. */
  readonly code = 'EVENT.INVALID';

  constructor(
    readonly event: string,
    readonly rejection: EventRejection,
  ) {
    super(`${event} event breaks its contract: ${rejection.reason}`);
    this.name = 'EventContractError';
  }
}

/**
 * Validates what a publisher built. Throwing is right here (unlike in parsers):
 * an invalid event built by our own code is a bug, and must not be published.
 */
export function buildChecked<S extends TObject>(
  contract: EventContract<S>,
  value: Static<S>,
): Static<S> {
  const result = validateAgainstSchema(contract.schema, value);
  if (!result.ok)
    throw new EventContractError(`${contract.name} v${contract.version}`, result.rejection);
  return result.value;
}

/** The `run_id` of a hand-off event that failed validation, when it is still readable. */
export function readRunIdKey(data: unknown): string | undefined {
  return readStringField(data, 'run_id', RUN_ID_PATTERN);
}
