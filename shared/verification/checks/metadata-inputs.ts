/**
 * `metadata_inputs`: the revision's `serving_default` signature takes exactly
 * the manifest's inputs, with the matching TensorFlow dtypes. A mismatch means
 * clients built against the manifest would get 400s (or the revision serves
 * another model than the one registered).
 */
import type { ManifestInput } from '../../ann/bundle/manifest.js';
import type { VerificationCheck } from '../../domain/run-document.js';
import { CHECK_NAMES } from '../check-names.js';
import { checkResult, type CheckContext } from '../check-context.js';
import { preview } from '../format.js';
import { describeFailure } from '../revision-client.js';

/** The TensorFlow dtype a manifest dtype is served as. */
export const SIGNATURE_DTYPES: Readonly<Record<ManifestInput['dtype'], string>> = {
  string: 'DT_STRING',
  int64: 'DT_INT64',
  float32: 'DT_FLOAT',
};

const SIGNATURE = 'serving_default';

export async function checkMetadataInputs(context: CheckContext): Promise<VerificationCheck> {
  const fail = (detail: string) => checkResult(CHECK_NAMES.metadataInputs, false, detail);
  const result = await context.client.metadata();
  if ('failure' in result || result.answer.status !== 200) {
    return fail(`GET ${context.client.modelUrl}/metadata: ${describeFailure(result)}`);
  }
  const served = servedInputs(result.answer.body);
  if ('problem' in served) return fail(served.problem);
  const problems = inputProblems(context.bundle.manifest.inputs, served.inputs);
  if (problems.length > 0) {
    return fail(`${SIGNATURE} inputs differ from the manifest: ${problems.join('; ')}`);
  }
  const listed = context.bundle.manifest.inputs
    .map((input) => `${input.name} ${SIGNATURE_DTYPES[input.dtype]}`)
    .join(', ');
  return checkResult(
    CHECK_NAMES.metadataInputs,
    true,
    `${SIGNATURE} takes exactly the manifest's ${context.bundle.manifest.inputs.length} inputs: ${listed}`,
  );
}

/** Every difference between the manifest's inputs and the served ones (name → dtype). */
export function inputProblems(
  expected: readonly ManifestInput[],
  served: ReadonlyMap<string, unknown>,
): string[] {
  const problems: string[] = [];
  for (const input of expected) {
    const want = SIGNATURE_DTYPES[input.dtype];
    if (!served.has(input.name)) {
      problems.push(`missing input "${input.name}" (${want})`);
      continue;
    }
    const got = served.get(input.name);
    if (got !== want) {
      problems.push(
        `input "${input.name}" is ${preview(got)}, the manifest says ${input.dtype} (${want})`,
      );
    }
  }
  const names = new Set(expected.map((input) => input.name));
  for (const name of served.keys()) {
    if (!names.has(name))
      problems.push(`unexpected input "${name}" (${preview(served.get(name))})`);
  }
  return problems;
}

function servedInputs(
  body: string,
): { readonly inputs: Map<string, unknown> } | { readonly problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { problem: `the metadata is not JSON: ${preview(body)}` };
  }
  const signatures = field(field(field(parsed, 'metadata'), 'signature_def'), 'signature_def');
  const signature = field(signatures, SIGNATURE);
  const inputs = field(signature, 'inputs');
  if (!isObject(inputs)) {
    const names = isObject(signatures) ? Object.keys(signatures).join(', ') : 'none';
    return {
      problem: `the metadata has no metadata.signature_def.signature_def.${SIGNATURE}.inputs (signatures: ${names})`,
    };
  }
  return {
    inputs: new Map(Object.entries(inputs).map(([name, spec]) => [name, field(spec, 'dtype')])),
  };
}

function field(value: unknown, name: string): unknown {
  return isObject(value) ? value[name] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
