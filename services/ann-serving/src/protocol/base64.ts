/**
 * `{"b64": "<base64>"}` string values (TF Serving's JsonDecodeBase64Object).
 * Node's Buffer decoder silently skips characters it does not know, so the
 * text is validated first, as absl::Base64Unescape does: the standard
 * alphabet, padding optional but well placed, ASCII whitespace ignored.
 */
import { jsonDebugString } from '../json/json-debug-string.js';
import { isBase64Object, type JsonObject } from '../json/json-value.js';
import { invalidArgument } from './tf-status.js';

const BASE64 = /^[A-Za-z0-9+/]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The decoded value: text when the bytes are UTF-8 (vocabulary tokens are),
 * else the bytes themselves, which can only be out of vocabulary and must be
 * hashed into an OOV bucket byte for byte, as TensorFlow Transform does.
 */
export function decodeBase64(object: JsonObject): string | Uint8Array {
  return textOrBytes(decodeBase64Bytes(object));
}

/** The bytes a `{"b64": …}` object encodes (a serialized tf.Example, say). */
export function decodeBase64Bytes(object: JsonObject): Uint8Array {
  if (!isBase64Object(object)) {
    throw invalidArgument(
      `JSON Value: ${jsonDebugString(object)} not formatted correctly for base64 data`,
    );
  }
  const text = (object.values[0] as string).replace(/[ \t\n\v\f\r]/g, '');
  const body = text.replace(/={1,2}$/, '');
  const padded = body.length !== text.length;
  const valid = BASE64.test(body) && body.length % 4 !== 1 && (!padded || text.length % 4 === 0);
  if (!valid) throw invalidArgument('Unable to base64 decode');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

/** A string value's bytes as the model reads them: UTF-8 text, else the bytes. */
export function textOrBytes(bytes: Uint8Array): string | Uint8Array {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes;
  }
}
