/**
 * TF.js models on the local file system: `model.json` plus binary weight
 * shards, the layout `tfjs-converter` and `tfjs-node`'s `file://` handler use.
 * Plain `@tensorflow/tfjs` has no `file://` handler in Node, so this is ours:
 * `readModelArtifacts` for loading (through `tf.io.fromMemory`) and
 * `fileSaveHandler` for `model.save`. Type-only imports of tfjs: nothing
 * here loads TensorFlow.js.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs';
import { bundleError, resolveInside } from '../bundle/bundle-files.js';

/** Weight shard size, as tfjs-converter writes them. */
const SHARD_BYTES = 4 * 1024 * 1024;

interface ModelJsonFile {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  format?: string;
  [key: string]: unknown;
}

/** Parses and checks model.json and returns the absolute paths of its weight shards. */
export async function readModelJson(
  modelJsonPath: string,
): Promise<{ json: ModelJsonFile; shards: string[] }> {
  const text = await readFile(modelJsonPath, 'utf8').catch((error: unknown) => {
    throw bundleError(modelJsonPath, 'cannot be read (missing query model?)', error);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw bundleError(modelJsonPath, `not valid JSON (${(error as Error).message})`, error);
  }
  if (typeof json !== 'object' || json === null || !('modelTopology' in json)) {
    throw bundleError(modelJsonPath, 'is not a TF.js model.json (no modelTopology)');
  }
  const manifest = (json as { weightsManifest?: unknown }).weightsManifest;
  const groups = Array.isArray(manifest) ? (manifest as unknown[]) : undefined;
  if (
    !groups?.every(
      (g) =>
        Array.isArray((g as { paths?: unknown }).paths) &&
        Array.isArray((g as { weights?: unknown }).weights),
    )
  ) {
    throw bundleError(modelJsonPath, 'weightsManifest must be a list of {paths, weights} groups');
  }
  const dir = path.dirname(modelJsonPath);
  const shards = (json as ModelJsonFile).weightsManifest.flatMap((g) =>
    g.paths.map((p) => resolveInside(dir, p, modelJsonPath)),
  );
  for (const shard of shards) {
    const info = await stat(shard).catch(() => undefined);
    if (!info?.isFile())
      throw bundleError(modelJsonPath, `weight file ${path.relative(dir, shard)} is missing`);
  }
  return { json: json as ModelJsonFile, shards };
}

/** Everything `tf.io.fromMemory` needs to load the model at `modelJsonPath`. */
export async function readModelArtifacts(modelJsonPath: string): Promise<io.ModelArtifacts> {
  const { json, shards } = await readModelJson(modelJsonPath);
  const buffers = await Promise.all(shards.map((shard) => readFile(shard)));
  const weightData = new Uint8Array(buffers.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const buffer of buffers) {
    weightData.set(buffer, offset);
    offset += buffer.length;
  }
  const { weightsManifest, modelTopology, ...rest } = json;
  return {
    ...rest,
    modelTopology: modelTopology as io.ModelArtifacts['modelTopology'],
    weightSpecs: weightsManifest.flatMap((group) => group.weights),
    weightData: weightData.buffer,
  };
}

/** A save handler writing `model.json` and 4 MiB weight shards into `dir`. */
export function fileSaveHandler(dir: string): io.IOHandler {
  return {
    async save(artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
      await mkdir(dir, { recursive: true });
      const data = joinWeights(artifacts.weightData);
      const count = Math.max(1, Math.ceil(data.byteLength / SHARD_BYTES));
      const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
      for (const [i, name] of paths.entries()) {
        await writeFile(
          path.join(dir, name),
          data.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES),
        );
      }
      const { weightSpecs } = artifacts;
      const modelJson: Record<string, unknown> = {
        ...artifacts,
        weightsManifest: [{ paths, weights: weightSpecs ?? [] }],
      };
      // The weights live in the shards; model.json only lists them.
      delete modelJson.weightData;
      delete modelJson.weightSpecs;
      const text = JSON.stringify(modelJson);
      await writeFile(path.join(dir, 'model.json'), text);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: Buffer.byteLength(JSON.stringify(artifacts.modelTopology ?? null)),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(weightSpecs ?? [])),
          weightDataBytes: data.byteLength,
        },
      };
    },
  };
}

function joinWeights(weightData: io.WeightData | undefined): Uint8Array {
  if (weightData === undefined) return new Uint8Array(0);
  const parts = Array.isArray(weightData) ? weightData : [weightData];
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  return joined;
}
