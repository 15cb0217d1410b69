/**
 * Strict base64 decoding. Node's `Buffer.from(text, 'base64')` silently skips
 * characters outside the alphabet and tolerates missing padding, so corrupted
 * data would decode to *something* and fail later with a misleading reason.
 * Here the text must be canonical standard base64 (RFC 4648 §4, padded), and
 * the size is checked before anything is allocated.
 */
import { accepted, excerptOf, invalid, type ParseResult } from '../result.js';

const NOT_IN_ALPHABET = /[^A-Za-z0-9+/=]/;

/** Decodes `text` (named `field` in reasons) into at most `maxBytes` bytes. */
export function decodeStrictBase64(
  text: string,
  field: string,
  maxBytes: number,
): ParseResult<Buffer> {
  const notBase64 = (why: string) =>
    invalid(`${field} is not valid base64: ${why}`, { excerpt: excerptOf(text) });
  if (text.length === 0) return invalid(`${field} is empty`);
  const bad = NOT_IN_ALPHABET.exec(text);
  if (bad) {
    return notBase64(`unexpected character ${JSON.stringify(bad[0])} at offset ${bad.index}`);
  }
  if (text.length % 4 !== 0) return notBase64(`length ${text.length} is not a multiple of 4`);
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const firstPad = text.indexOf('=');
  if (firstPad !== -1 && firstPad < text.length - padding) {
    return notBase64(`padding "=" at offset ${firstPad} before the end`);
  }
  const size = (text.length / 4) * 3 - padding;
  if (size > maxBytes) {
    return invalid(`${field} decodes to ${size} bytes, more than the ${maxBytes}-byte limit`);
  }
  const bytes = Buffer.from(text, 'base64');
  // Catches the last sneaky case: trailing bits that decoding drops (e.g. "QR==").
  if (bytes.toString('base64') !== text)
    return notBase64('non-canonical encoding (unused bits set)');
  return accepted(bytes);
}
