import { PermanentError } from '../errors.js';

/**
 * Serialises a payload the way every recdeploy event travels on any bus:
 * UTF-8 JSON bytes. Shared by the Pub/Sub and the local adapter so both refuse
 * the same payloads with the same error.
 */
export function encodeJsonData(topic: string, data: unknown): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (cause) {
    throw new PermanentError('BUS.PUBLISH_FAILED', `data for ${topic} is not JSON`, { cause });
  }
  // JSON.stringify(undefined) (or a function) yields no text at all.
  if (text === undefined) {
    throw new PermanentError('BUS.PUBLISH_FAILED', `data for ${topic} is not JSON`);
  }
  return Buffer.from(text, 'utf8');
}
