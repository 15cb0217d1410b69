/**
 * The CloudEvent shape this package works with, and the checks on its core
 * attributes, shared by binary mode (ce-* headers) and structured mode (JSON
 * body). Extensions we do not use are passed through, not validated.
 */
import { preview } from '../validation/describe-errors.js';
import { accepted, invalid, type ParseResult } from '../result.js';
import { optionalString, requiredString } from './read-fields.js';

/** A decoded CloudEvent (spec 1.0), whichever content mode it arrived in. */
export interface CloudEventLike {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly specversion: '1.0';
  readonly time?: string;
  readonly subject?: string;
  readonly datacontenttype?: string;
  /** Other string attributes (e.g. `traceparent`), as delivered. */
  readonly extensions: Readonly<Record<string, string>>;
  readonly data: unknown;
}

/** The core attributes, without data and extensions. */
export type CloudEventAttributes = Omit<CloudEventLike, 'data' | 'extensions'>;

/** The attribute names CloudEvents defines; everything else is an extension. */
export const CORE_ATTRIBUTES = [
  'id',
  'type',
  'source',
  'specversion',
  'time',
  'subject',
  'datacontenttype',
];

/** Longest CloudEvent id accepted (Pub/Sub message ids are about 16 digits). */
export const MAX_EVENT_ID_CHARS = 256;

const MAX_EXTENSIONS = 50;
const MAX_EXTENSION_CHARS = 1024;

/**
 * Reads and checks the core attributes. `read(name)` returns the raw attribute
 * and `label(name)` how reasons name it (`header ce-id` or `CloudEvent id`).
 */
export function readCoreAttributes(
  read: (name: string) => unknown,
  label: (name: string) => string,
): ParseResult<CloudEventAttributes> {
  const id = requiredString(read('id'), label('id'), MAX_EVENT_ID_CHARS);
  if (!id.ok) return id;
  const type = requiredString(read('type'), label('type'), 256);
  if (!type.ok) return type;
  const source = requiredString(read('source'), label('source'), 1024);
  if (!source.ok) return source;
  const specversion = read('specversion');
  if (specversion !== '1.0') {
    return invalid(
      `${label('specversion')} ${preview(specversion)} is not supported (expected "1.0")`,
    );
  }
  const time = optionalString(read('time'), label('time'), 64);
  if (!time.ok) return time;
  if (time.value !== undefined && Number.isNaN(Date.parse(time.value))) {
    return invalid(`${label('time')} ${preview(time.value)} is not a timestamp`);
  }
  const subject = optionalString(read('subject'), label('subject'), 1024);
  if (!subject.ok) return subject;
  const contentType = optionalString(read('datacontenttype'), label('datacontenttype'), 256);
  if (!contentType.ok) return contentType;
  return accepted({
    id: id.value,
    type: type.value,
    source: source.value,
    specversion: '1.0',
    ...(time.value !== undefined ? { time: time.value } : {}),
    ...(subject.value !== undefined ? { subject: subject.value } : {}),
    ...(contentType.value !== undefined ? { datacontenttype: contentType.value } : {}),
  });
}

/** Keeps string-valued extensions within bounds; others are dropped, since nothing here reads them. */
export function pickExtensions(entries: Iterable<[string, unknown]>): Record<string, string> {
  const kept: [string, string][] = [];
  for (const [name, value] of entries) {
    if (kept.length >= MAX_EXTENSIONS) break;
    if (CORE_ATTRIBUTES.includes(name) || name === 'data' || name === 'data_base64') continue;
    if (typeof value === 'string' && value.length <= MAX_EXTENSION_CHARS) kept.push([name, value]);
  }
  return Object.fromEntries(kept);
}
