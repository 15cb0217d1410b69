/**
 * `L2Normalize`: a Keras-style layer scaling each row to unit L2 norm, as
 * `tf.math.l2_normalize(x, axis=-1)` (epsilon 1e-12 on the squared norm).
 * TF.js has no built-in layer for it and Lambda layers cannot be saved, so the
 * query tower uses this one; it must be registered before such a model loads.
 * Built from the runtime's own `tf` (tfjs-node ships its own copy of the
 * layers registry), once per namespace.
 */
import type { Tensor } from '@tensorflow/tfjs';
import type { Tf } from './tf-backend.js';

/** Serialised class name of the layer in model.json. */
export const L2_NORMALIZE_CLASS = 'L2Normalize';

const registered = new WeakSet<object>();

/** Registers `L2Normalize` with `tf`'s serialisation registry (idempotent) and returns a factory. */
export function registerL2Normalize(
  tf: Tf,
): (config?: { name?: string }) => InstanceType<Tf['layers']['Layer']> {
  class L2Normalize extends tf.layers.Layer {
    static readonly className = L2_NORMALIZE_CLASS;

    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        return tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-12)));
      });
    }
  }
  if (!registered.has(tf.serialization)) {
    tf.serialization.registerClass(L2Normalize);
    registered.add(tf.serialization);
  }
  return (config = {}) => new L2Normalize(config);
}
