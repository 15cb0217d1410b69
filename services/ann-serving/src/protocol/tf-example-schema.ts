/**
 * The `tensorflow.Example` message, decoded by protobufjs from its schema:
 * the messages, field names and field numbers of TensorFlow's
 * tensorflow/core/example/example.proto (Example) and feature.proto
 * (Features, Feature, BytesList, FloatList, Int64List), written out here
 * without their comments. The schema lives in the code rather than in a
 * .proto file beside it so that the compiled service needs no file at run
 * time (nothing extra for the container image to copy).
 */
import protobuf from 'protobufjs';

const EXAMPLE_PROTO = `
syntax = "proto3";
package tensorflow;

message Example {
  Features features = 1;
}

message Features {
  map<string, Feature> feature = 1;
}

message Feature {
  oneof kind {
    BytesList bytes_list = 1;
    FloatList float_list = 2;
    Int64List int64_list = 3;
  }
}

message BytesList {
  repeated bytes value = 1;
}
message FloatList {
  repeated float value = 1 [packed = true];
}
message Int64List {
  repeated int64 value = 1 [packed = true];
}
`;

/** An int64 as protobufjs decodes it: a Long (from the `long` package) or a number. */
export type DecodedInt64 = number | { toString(): string };

/** One feature's values; at most one list is set (`oneof kind`), none for an empty Feature. */
export interface DecodedFeature {
  readonly bytes_list?: { readonly value: readonly Uint8Array[] } | null;
  readonly float_list?: { readonly value: readonly number[] } | null;
  readonly int64_list?: { readonly value: readonly DecodedInt64[] } | null;
}

/** A decoded Example; the map is a plain object keyed by feature name. */
export interface DecodedExample {
  readonly features?: { readonly feature: Readonly<Record<string, DecodedFeature>> } | null;
}

const exampleType = protobuf
  .parse(EXAMPLE_PROTO, { keepCase: true })
  .root.lookupType('tensorflow.Example');

/**
 * Decodes a serialized Example; throws (protobufjs's RangeError or Error)
 * when the bytes are not one.
 */
export function decodeExample(serialized: Uint8Array): DecodedExample {
  return exampleType.decode(serialized) as unknown as DecodedExample;
}
