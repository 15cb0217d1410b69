import type { Logger } from './logger.port.js';

/** What a delivered CloudEvent tells us for correlating its log lines. */
export interface EventLogContext {
  readonly eventId: string;
  readonly eventType?: string;
  /** W3C `traceparent` header (`00-<trace id>-<span id>-<flags>`), when present. */
  readonly traceparent?: string;
  /** Needed to build Cloud Logging's trace resource name. */
  readonly projectId?: string;
  /** The business key (run id or pipeline job id) once known. */
  readonly runId?: string;
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

/**
 * Cloud Logging's trace fields from a `traceparent` header, so the lines of
 * one delivery group under its trace in the console. Empty when the header
 * is absent or malformed (never throws on a client's header).
 */
export function traceFields(
  traceparent: string | undefined,
  projectId: string | undefined,
): Record<string, string> {
  const match = traceparent ? TRACEPARENT.exec(traceparent.trim().toLowerCase()) : null;
  if (!match?.[1] || !match[2] || /^0+$/.test(match[1])) return {};
  const trace = projectId ? `projects/${projectId}/traces/${match[1]}` : match[1];
  return { 'logging.googleapis.com/trace': trace, 'logging.googleapis.com/spanId': match[2] };
}

/** A child logger whose every line carries the event id, type, run id and trace. */
export function loggerForEvent(logger: Logger, context: EventLogContext): Logger {
  return logger.child({
    eventId: context.eventId,
    ...(context.eventType ? { eventType: context.eventType } : {}),
    ...(context.runId ? { runId: context.runId } : {}),
    ...traceFields(context.traceparent, context.projectId),
  });
}
