/**
 * Readers of protobuf values as the Vertex client returns them (Value with
 * or without `kind`, int64 as strings, Timestamp as seconds and nanos).
 */
import type {
  DeprecatedParameterValue,
  ProtoStruct,
  ProtoTimestamp,
  ProtoValue,
} from './pipeline-job-input.js';

/** The member a Value holds, by `kind` when the client names it (numberValue 0 is falsy). */
export function member(value: ProtoValue): keyof ProtoValue | undefined {
  if (typeof value.kind === 'string') return value.kind as keyof ProtoValue;
  for (const key of ['numberValue', 'stringValue', 'boolValue', 'structValue'] as const) {
    if (value[key] !== undefined && value[key] !== null) return key;
  }
  return undefined;
}

export function numberOf(value: ProtoValue): number | undefined {
  return member(value) === 'numberValue' && typeof value.numberValue === 'number'
    ? value.numberValue
    : undefined;
}

export function stringOf(value: ProtoValue): string | undefined {
  return member(value) === 'stringValue' && typeof value.stringValue === 'string'
    ? value.stringValue
    : undefined;
}

export function structOf(value: ProtoValue): ProtoStruct | undefined {
  return member(value) === 'structValue' ? (value.structValue ?? undefined) : undefined;
}

/** A Value as identity text: strings as they are, numbers in decimal. */
export function textOf(value: ProtoValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  const number = numberOf(value);
  return number !== undefined ? String(number) : stringOf(value);
}

export function deprecatedTextOf(value: DeprecatedParameterValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  const set =
    value.value ??
    (['stringValue', 'intValue', 'doubleValue'] as const).find(
      (key) => value[key] !== undefined && value[key] !== null,
    );
  if (set === 'stringValue') return value.stringValue ?? undefined;
  if (set === 'intValue') return value.intValue == null ? undefined : String(value.intValue);
  if (set === 'doubleValue')
    return value.doubleValue == null ? undefined : String(value.doubleValue);
  return undefined;
}

export function numberField(struct: ProtoStruct, key: string): number | undefined {
  const value = own(struct.fields ?? {}, key);
  return value === undefined ? undefined : numberOf(value);
}

export function stringField(struct: ProtoStruct, key: string): string | undefined {
  const value = own(struct.fields ?? {}, key);
  return value === undefined ? undefined : stringOf(value);
}

/** Own properties only: a parameter named `constructor` must not read Object.prototype. */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** RFC 3339 in UTC; undefined for a timestamp that is not one (the field is optional). */
export function isoOf(timestamp: ProtoTimestamp): string | undefined {
  const seconds = Number(String(timestamp.seconds ?? 0));
  const millis = seconds * 1000 + Math.floor((timestamp.nanos ?? 0) / 1_000_000);
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
