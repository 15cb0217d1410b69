/**
 * TF.js's WASM backend has no `UnsortedSegmentSum` kernel, which the gradient
 * of an embedding lookup (`gather`) needs, so training embeddings on WASM
 * fails with "Kernel 'UnsortedSegmentSum' not registered". This registers a
 * plain-JS implementation for the WASM backend, the way the backend's own
 * `Unique` kernel runs on the CPU. Inference never needs it.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { Tf } from '../encoder/tf-backend.js';

/** The part of the WASM backend the kernel uses (both methods are public in BackendWasm). */
interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(
    shape: number[],
    dtype: 'float32' | 'int32',
    memoryOffset?: number,
    values?: ArrayLike<number>,
  ): TensorInfo;
}

/** Registers the missing training kernels for 'wasm' if they are absent. */
export function registerWasmTrainingKernels(tf: Tf): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x!;
      const ids = inputs.segmentIds!;
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const wasm = backend as unknown as WasmBackendLike;
      const values = wasm.readSync(x.dataId);
      const segments = wasm.readSync(ids.dataId);
      const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const out =
        x.dtype === 'int32'
          ? new Int32Array(numSegments * inner)
          : new Float32Array(numSegments * inner);
      for (let row = 0; row < segments.length; row++) {
        const segment = segments[row]!;
        if (segment < 0 || segment >= numSegments) continue; // as TF: out-of-range ids are dropped
        for (let j = 0; j < inner; j++) out[segment * inner + j]! += values[row * inner + j]!;
      }
      return wasm.makeOutput(
        [numSegments, ...x.shape.slice(1)],
        x.dtype === 'int32' ? 'int32' : 'float32',
        undefined,
        out,
      );
    },
  });
}
