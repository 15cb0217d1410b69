/** What the routing policy needs to know about an artifact directory. */
import type { BundleFacts } from '../domain/routing-policy.js';
import type { ArtifactStore } from '../ports/artifact-store.port.js';

export async function readBundleFacts(
  artifacts: ArtifactStore,
  artifactUri: string,
): Promise<BundleFacts> {
  const base = artifacts.checkUri(artifactUri).replace(/\/+$/, '');
  const [hasSavedModel, hasAnnBundle] = await Promise.all([
    artifacts.exists(`${base}/saved_model.pb`),
    artifacts.exists(`${base}/ann/manifest.json`),
  ]);
  return { hasSavedModel, hasAnnBundle };
}
