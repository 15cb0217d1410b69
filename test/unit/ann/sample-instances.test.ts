import assert from 'node:assert/strict';
import { createPreprocessor, sampleInstances } from '@recdeploy/shared/ann';
import {
  CITIES,
  CUSTOMERS,
  validManifest,
  validVocabularies,
} from '../../support/ann/manifest-fixture.js';

describe('sampleInstances (calibration queries from the input space)', () => {
  const bundle = {
    manifest: validManifest(),
    vocabularies: validVocabularies(),
    examples: [{ customer_id: 'C1', city: 'Warsaw', revenue: 900 }],
  };

  it('draws vocabulary inputs from their vocabularies, covering them', () => {
    const instances = sampleInstances(bundle, 400);
    const customers = new Set(instances.map((i) => i.customer_id));
    const cities = new Set(instances.map((i) => i.city));
    assert.deepEqual([...customers].sort(), [...CUSTOMERS].sort());
    assert.deepEqual([...cities].sort(), [...CITIES].sort());
  });

  it('draws z-scored inputs from the training distribution (mean and std)', () => {
    const revenues = sampleInstances(bundle, 4000).map((i) => i.revenue as number);
    const mean = revenues.reduce((s, x) => s + x, 0) / revenues.length;
    const std = Math.sqrt(revenues.reduce((s, x) => s + (x - mean) ** 2, 0) / revenues.length);
    assert.ok(Math.abs(mean - 1000) < 20, `mean ${mean}`);
    assert.ok(Math.abs(std - 250) < 20, `std ${std}`);
  });

  it('takes identity inputs from the examples', () => {
    const manifest = validManifest({
      inputs: [{ name: 'age', dtype: 'float32', preprocessing: { kind: 'identity' } }],
    });
    const examples = [{ age: 31 }, { age: 47 }];
    const ages = new Set(
      sampleInstances({ manifest, vocabularies: new Map(), examples }, 50).map((i) => i.age),
    );
    assert.deepEqual([...ages].sort(), [31, 47]);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    assert.deepEqual(sampleInstances(bundle, 20, 7), sampleInstances(bundle, 20, 7));
    assert.notDeepEqual(sampleInstances(bundle, 20, 7), sampleInstances(bundle, 20, 8));
  });

  it('produces instances the serving preprocessing accepts', () => {
    const prepared = createPreprocessor(bundle.manifest, bundle.vocabularies).instances(
      sampleInstances(bundle, 50),
    );
    assert.equal(prepared.count, 50);
  });
});
