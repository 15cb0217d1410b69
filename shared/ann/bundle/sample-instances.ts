import { SeededRandom } from '../sample/random.js';
import type { ModelBundle } from './bundle-reader.js';
import type { ManifestInput } from './manifest.js';

/**
 * `count` client-style instances drawn from the bundle's own input space:
 * a uniformly chosen vocabulary token for vocabulary inputs, mean + std·N(0,1)
 * for z-scored ones (the training distribution TFT measured), and a value
 * taken from a random example for identity inputs. Encoded by the query
 * tower they give real query-tower embeddings, which is what index
 * calibration needs: recall measured on item-like vectors can be far off for
 * two-tower queries, and a bundle ships only a handful of examples.
 * Seeded, so an index build is reproducible.
 */
export function sampleInstances(
  bundle: Pick<ModelBundle, 'manifest' | 'vocabularies' | 'examples'>,
  count: number,
  seed = 1,
): Record<string, unknown>[] {
  const random = new SeededRandom(seed);
  const instances: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const instance: Record<string, unknown> = {};
    for (const input of bundle.manifest.inputs) {
      instance[input.name] = sampleValue(input, bundle, random);
    }
    instances.push(instance);
  }
  return instances;
}

function sampleValue(
  input: ManifestInput,
  bundle: Pick<ModelBundle, 'vocabularies' | 'examples'>,
  random: SeededRandom,
): unknown {
  const p = input.preprocessing;
  if (p.kind === 'vocabulary') {
    const tokens = bundle.vocabularies.get(input.name) ?? [];
    const token = tokens[random.int(tokens.length)] ?? '';
    return input.dtype === 'int64' ? Number(token) : token;
  }
  if (p.kind === 'z_score') {
    const value = p.mean + p.std * random.normal();
    return input.dtype === 'int64' ? Math.round(value) : value;
  }
  const example = bundle.examples[random.int(bundle.examples.length)];
  return example?.[input.name];
}
