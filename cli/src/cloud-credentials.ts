/**
 * A command on Google Cloud (`--project`) without Application Default
 * Credentials: one sentence saying how to get them, instead of the client
 * libraries' stack trace and their metadata-server warning.
 *
 * What the libraries raise (google-auth-library 9 and 10, gcp-metadata 6 and 8,
 * as installed): with no GOOGLE_APPLICATION_CREDENTIALS and no gcloud
 * well-known file, GoogleAuth asks whether it runs on Google Cloud (BIOS/MAC
 * probe, then the metadata server at GCE_METADATA_HOST / GCE_METADATA_IP or
 * 169.254.169.254, unless METADATA_SERVER_DETECTION says otherwise). When the
 * ping fails in a way gcp-metadata does not expect (no error code: the
 * AggregateError of its two racing requests on a laptop, or a host that is not
 * a metadata server answering without `Metadata-Flavor: Google`) it calls
 * `process.emitWarning(…, 'MetadataLookupWarning')`. Then getClient() rejects
 * with a plain Error whose message is GoogleAuthExceptionMessages.NO_ADC_FOUND
 * (no code). google-gax also leaves copies of that rejection unhandled.
 */
import type { CliIo } from './cli-io.js';

/** The line a command without credentials ends with. */
export const MISSING_CREDENTIALS_LINE =
  'recdeploy: no Google Cloud credentials: run `gcloud auth application-default login` ' +
  '(or set GOOGLE_APPLICATION_CREDENTIALS)';

/**
 * The starts of google-auth-library's messages for "no credentials anywhere"
 * (NO_ADC_FOUND, and NO_CREDENTIALS_FOUND of older code paths). The library is
 * not a dependency of the CLI, so its constants are matched by text.
 */
const MISSING_CREDENTIALS_MESSAGES = [
  'Could not load the default credentials.',
  'Unable to find credentials in current environment.',
] as const;

/** The warning type gcp-metadata emits when the metadata-server ping fails oddly. */
export const METADATA_LOOKUP_WARNING = 'MetadataLookupWarning';

/** Whether `error` (or an error it wraps as its cause) says no credentials were found. */
export function isMissingCredentials(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current = error;
  while (current instanceof Error && !seen.has(current)) {
    const message = current.message;
    if (MISSING_CREDENTIALS_MESSAGES.some((start) => message.startsWith(start))) return true;
    seen.add(current);
    current = current.cause;
  }
  return false;
}

/** The outputs that have had the line: a process reports it from two places (process-run.ts). */
const reportedTo = new WeakSet<CliIo>();

/** Writes the one line for missing credentials to `io`, once per io. */
export function reportMissingCredentials(io: CliIo): void {
  if (reportedTo.has(io)) return;
  reportedTo.add(io);
  io.err(MISSING_CREDENTIALS_LINE);
}

/** emitWarning as every overload calls it: a warning and what follows it. */
type AnyEmitWarning = (warning: string | Error, ...rest: unknown[]) => void;

/**
 * Drops gcp-metadata's MetadataLookupWarning from `proc`'s warnings (the
 * missing-credentials line says what matters); every other warning is emitted
 * as before. DEBUG_AUTH (the library's own debug switch) keeps it.
 */
export function silenceMetadataLookupWarning(proc: NodeJS.Process = process): void {
  if (proc.env.DEBUG_AUTH) return;
  const emit = proc.emitWarning.bind(proc) as AnyEmitWarning;
  const filtered: AnyEmitWarning = (warning, ...rest) => {
    if (warningType(warning, rest[0]) === METADATA_LOOKUP_WARNING) return;
    emit(warning, ...rest);
  };
  proc.emitWarning = filtered;
}

/** The type of a warning as emitWarning takes it: (warning, type) or (warning, { type }). */
function warningType(warning: string | Error, typeOrOptions: unknown): string | undefined {
  if (typeof typeOrOptions === 'string') return typeOrOptions;
  if (typeof typeOrOptions === 'object' && typeOrOptions !== null && 'type' in typeOrOptions) {
    const { type } = typeOrOptions as { type?: unknown };
    if (typeof type === 'string') return type;
  }
  return warning instanceof Error ? warning.name : undefined;
}
