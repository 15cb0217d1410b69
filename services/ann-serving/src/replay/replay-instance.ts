/**
 * A served instance as the replay sample keeps it: the signature's inputs
 * only (an Instance holds nothing else: protocol/instances.ts builds it from
 * the signature's input names, whatever format the request used), values as
 * a client would send them in JSON. What JSON cannot hold exactly is not
 * kept: NaN and ±Infinity, and int64 values beyond 2^53 (bigint here; a
 * JSON reader would round them to another value).
 */
import type { ReplayInstance, ReplayValue } from '@recdeploy/shared/ann';
import type { Instance } from '../protocol/instances.js';
import type { TensorValue } from '../protocol/json-tensor.js';

/** Whether every value of the instance can be written to the sample exactly. */
export function isReplayable(instance: Instance): boolean {
  for (const value of Object.values(instance)) {
    if (typeof value === 'bigint') return false;
    if (typeof value === 'number' && !Number.isFinite(value)) return false;
  }
  return true;
}

/** The instance in row-format JSON; call only when isReplayable. */
export function toReplayInstance(instance: Instance): ReplayInstance {
  const out: Record<string, ReplayValue> = {};
  for (const [name, value] of Object.entries(instance)) {
    // defineProperty: an input named "__proto__" stays data.
    Object.defineProperty(out, name, { value: jsonValue(value), enumerable: true });
  }
  return out;
}

function jsonValue(value: TensorValue): ReplayValue {
  if (value instanceof Uint8Array) return { b64: Buffer.from(value).toString('base64') };
  if (typeof value === 'bigint')
    throw new RangeError('an int64 beyond 2^53 has no exact JSON number');
  return value;
}
