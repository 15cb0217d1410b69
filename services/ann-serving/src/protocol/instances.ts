/**
 * Input tensors → one object per instance, the form the model takes. Every
 * input of a recdeploy signature is one scalar per instance (shape [-1]), so
 * a tensor of another shape, or inputs with different batch sizes, are the
 * client's mistake; TF Serving would let the graph reject them, with a 400
 * as well.
 */
import type { Tensor, TensorValue } from './json-tensor.js';
import type { TensorSpec } from './signature.js';
import { invalidArgument } from './tf-status.js';

/** One instance: a scalar per signature input. */
export type Instance = Readonly<Record<string, TensorValue>>;

/** Splits the batch tensors into instances, checking shapes against the signature. */
export function toInstances(
  tensors: ReadonlyMap<string, Tensor>,
  inputs: ReadonlyMap<string, TensorSpec>,
): Instance[] {
  let batch: { name: string; size: number } | undefined;
  for (const [name, spec] of inputs) {
    const tensor = tensors.get(name);
    if (tensor === undefined) throw invalidArgument(`Missing named input: ${name}`);
    if (!shapeMatches(tensor.shape, spec.shape)) {
      throw invalidArgument(
        `Input: ${name} has shape [${tensor.shape.join(',')}] but the signature expects [${spec.shape.join(',')}]`,
      );
    }
    const size = tensor.shape[0] ?? 0;
    if (batch !== undefined && batch.size !== size) {
      throw invalidArgument(
        `Inputs have different batch sizes: ${batch.name} has ${batch.size}, ${name} has ${size}`,
      );
    }
    batch ??= { name, size };
  }
  const names = [...inputs.keys()];
  const columns = names.map((name) => tensors.get(name)!.values);
  return Array.from({ length: batch?.size ?? 0 }, (_, row) =>
    // fromEntries defines own properties, so an input named "__proto__" stays data.
    Object.fromEntries(names.map((name, i) => [name, columns[i]![row]!])),
  );
}

function shapeMatches(actual: readonly number[], expected: readonly number[]): boolean {
  return (
    actual.length === expected.length &&
    expected.every((size, i) => size === -1 || size === actual[i])
  );
}
