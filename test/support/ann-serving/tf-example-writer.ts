/**
 * Serialized `tensorflow.Example`s for tests, written by an encoder that
 * shares nothing with the server's decoder: google-protobuf's BinaryWriter
 * (not protobufjs), writing the wire format by field number as TensorFlow's
 * example.proto and feature.proto number it:
 *   Example  { Features features = 1 }
 *   Features { map<string, Feature> feature = 1 }  (entry: key = 1, value = 2)
 *   Feature  { oneof kind: BytesList bytes_list = 1, FloatList float_list = 2,
 *              Int64List int64_list = 3 }
 *   BytesList/FloatList/Int64List { repeated value = 1 } (numbers packed or not)
 */
import { createRequire } from 'node:module';

/** The part of google-protobuf's BinaryWriter these tests use (the package has no types). */
interface BinaryWriter {
  writeMessage<T>(field: number, value: T, write: (value: T, writer: BinaryWriter) => void): void;
  writeString(field: number, value: string): void;
  writeRepeatedBytes(field: number, values: Uint8Array[]): void;
  writePackedFloat(field: number, values: number[]): void;
  writeRepeatedFloat(field: number, values: number[]): void;
  writePackedInt64String(field: number, values: string[]): void;
  writeRepeatedInt64String(field: number, values: string[]): void;
  getResultBuffer(): Uint8Array;
}

const { BinaryWriter } = createRequire(import.meta.url)('google-protobuf') as {
  BinaryWriter: new () => BinaryWriter;
};

/** One feature: a list of one kind, or none at all (an empty Feature message). */
export type FeatureSpec =
  | { readonly bytes: readonly (string | Uint8Array)[] }
  | { readonly floats: readonly number[]; readonly packed?: boolean }
  | { readonly int64s: readonly (number | bigint)[]; readonly packed?: boolean }
  | { readonly empty: true };

/** Map entries in wire order (a key may repeat: the last entry wins), or an object. */
export type ExampleSpec = Readonly<Record<string, FeatureSpec>> | readonly [string, FeatureSpec][];

/** The serialized Example. */
export function serializeExample(spec: ExampleSpec): Uint8Array {
  const entries = Array.isArray(spec)
    ? (spec as readonly [string, FeatureSpec][])
    : Object.entries(spec as Readonly<Record<string, FeatureSpec>>);
  const writer = new BinaryWriter();
  writer.writeMessage(1, entries, (list, features) => {
    for (const [key, feature] of list) {
      features.writeMessage(1, feature, (value, entry) => {
        entry.writeString(1, key);
        entry.writeMessage(2, value, writeFeature);
      });
    }
  });
  return writer.getResultBuffer();
}

/** The Example as the legacy request carries it: `{"b64": …}`. */
export function exampleB64(spec: ExampleSpec): { b64: string } {
  return { b64: Buffer.from(serializeExample(spec)).toString('base64') };
}

function writeFeature(feature: FeatureSpec, writer: BinaryWriter): void {
  if ('bytes' in feature) {
    const values = feature.bytes.map((v) => (typeof v === 'string' ? Buffer.from(v) : v));
    writer.writeMessage(1, values, (list, w) => w.writeRepeatedBytes(1, list));
  } else if ('floats' in feature) {
    writer.writeMessage(2, feature, (f, w) =>
      f.packed === false
        ? w.writeRepeatedFloat(1, [...f.floats])
        : w.writePackedFloat(1, [...f.floats]),
    );
  } else if ('int64s' in feature) {
    writer.writeMessage(3, feature, (f, w) => {
      const text = f.int64s.map(String);
      if (f.packed === false) w.writeRepeatedInt64String(1, text);
      else w.writePackedInt64String(1, text);
    });
  }
}
