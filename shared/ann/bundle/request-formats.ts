/**
 * The two request layouts of TF Serving's predict API, validated with its
 * rules and wording (tensorflow_serving/util/json_tensor.cc): row format
 * (`instances`, every instance holding exactly the signature's inputs) and
 * columnar format (`inputs`, every input present, extra names ignored).
 * Values go through the column writers, which apply the preprocessing.
 */
import { PermanentError } from '../../errors.js';
import { isB64Object } from './input-values.js';
import type { ManifestInput } from './manifest.js';
import type { ColumnWriter, PreparedInputs } from './prepared-inputs.js';
import { preview } from './schema-errors.js';

/** Column writers for a batch of `count` rows, one per manifest input. */
export type Writers = (count: number) => ColumnWriter[];

/** Row format: `instances`, one object per instance (bare values for a one-input model). */
export function prepareRows(
  inputs: readonly ManifestInput[],
  writers: Writers,
  instances: unknown,
): PreparedInputs {
  if (!Array.isArray(instances)) throw invalid("Expecting 'instances' to be an list/array");
  if (instances.length === 0) throw invalid("No values in 'instances' array");
  const columns = writers(instances.length);
  const names = inputs.map((input) => input.name);
  for (const [row, instance] of instances.entries()) {
    const single = inputs.length === 1 && !isNamedObject(instance);
    if (single) {
      // One input: the instance may be the bare value (TF Serving's "plain list").
      fail(columns[0]!.set(row, instance), row, names[0]!);
      continue;
    }
    if (!isNamedObject(instance)) {
      throw invalid(
        'instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map',
      );
    }
    for (const key of Object.keys(instance)) {
      if (!names.includes(key)) {
        throw invalid(
          `Failed to process element: ${row} of 'instances' list. JSON object: does not have named input: ${key.length > 100 ? `${key.slice(0, 100)}…` : key}`,
        );
      }
    }
    for (const [c, name] of names.entries()) {
      if (!Object.hasOwn(instance, name)) {
        throw invalid(
          `Failed to process element: ${row} of 'instances' list. JSON object: ${preview(instance)} keys must be equal to: ${names.join(',')} (missing: ${name})`,
        );
      }
      fail(columns[c]!.set(row, instance[name]), row, name);
    }
  }
  return { count: instances.length, columns: columns.map((writer) => writer.column) };
}

/** Columnar format: `inputs`, name → one value per instance. */
export function prepareColumns(
  inputs: readonly ManifestInput[],
  writers: Writers,
  given: unknown,
): PreparedInputs {
  const byName: Record<string, unknown> =
    inputs.length === 1 && !isNamedObject(given)
      ? { [inputs[0]!.name]: given }
      : (given as Record<string, unknown>);
  if (!isNamedObject(byName)) {
    throw invalid(
      'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map',
    );
  }
  let count: number | undefined;
  for (const input of inputs) {
    if (!Object.hasOwn(byName, input.name))
      throw invalid(`Missing named input: ${input.name} in 'inputs' object.`);
    const values = byName[input.name];
    if (!Array.isArray(values))
      throw invalid(`Input: ${input.name} of 'inputs' must be a list with one value per instance`);
    if (count !== undefined && values.length !== count) {
      throw invalid(
        `Inputs have different batch sizes: ${inputs[0]!.name} has ${count} values, ${input.name} has ${values.length}`,
      );
    }
    count = values.length;
  }
  const columns = writers(count ?? 0);
  for (const [c, input] of inputs.entries()) {
    const values = byName[input.name] as unknown[];
    for (const [row, value] of values.entries()) {
      const reason = columns[c]!.set(row, value);
      if (reason)
        throw invalid(
          `Failed to process input: ${input.name} at index ${row} of 'inputs'. Error: Invalid argument: ${reason}`,
        );
    }
  }
  return { count: count ?? 0, columns: columns.map((writer) => writer.column) };
}

function isNamedObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !isB64Object(value)
  );
}

function fail(reason: string | undefined, row: number, name: string): void {
  if (reason) {
    throw invalid(
      `Failed to process element: ${row} key: ${name} of 'instances' list. Error: Invalid argument: ${reason}`,
    );
  }
}

function invalid(message: string): PermanentError {
  return new PermanentError('INPUT.INVALID', message);
}
