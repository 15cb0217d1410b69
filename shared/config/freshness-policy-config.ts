/**
 * The operator's freshness policy from the environment (docs/architecture.md
 * "Freshness"): FRESHNESS_MAX_AGE and FRESHNESS_MAX_LAG for every endpoint
 * (unset: not checked), FRESHNESS_ENDPOINTS for endpoints that differ (a
 * JSON object: endpoint id → {"max_age": "3d", "max_lag": "off"}, or "off"
 * for both; a field left out keeps the default). The alerts' topic is the
 * runtime's TOPIC_FRESHNESS_ALERT, with the other topics (runtime-config.ts).
 */
import { ID_PATTERN } from '@recdeploy/events';
import { Type, type Static } from '@sinclair/typebox';
import { parseDuration } from '../domain/duration-text.js';
import type { FreshnessLimits, FreshnessPolicy } from '../domain/freshness.js';

const Duration = (description: string) =>
  Type.Optional(Type.String({ minLength: 2, maxLength: 16, description }));

export const FreshnessEnvProperties = {
  /** The live run's training ended longer ago than this: "7d", "36h", "90m", "45s". */
  FRESHNESS_MAX_AGE: Duration('duration'),
  /** A newer training run has not gone live this long after its training ended. */
  FRESHNESS_MAX_LAG: Duration('duration'),
  /** Endpoints whose limits differ: {"endpoint-id": {"max_age": "3d", "max_lag": "off"}} or "off". */
  FRESHNESS_ENDPOINTS: Type.Optional(Type.String({ minLength: 2 })),
};

type FreshnessVars = Static<ReturnType<typeof Type.Object<typeof FreshnessEnvProperties>>>;

/** The chain's freshness settings (the alerts' topic is the runtime's TOPIC_FRESHNESS_ALERT). */
export interface FreshnessSettings {
  readonly policy: FreshnessPolicy;
}

/** The settings, or the list of problems with the variables (reported with the others at cold start). */
export function freshnessSettingsOf(vars: FreshnessVars): FreshnessSettings | string[] {
  const problems: string[] = [];
  const limit = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined || text === 'off') return undefined;
    const ms = parseDuration(text);
    if (typeof ms === 'string') problems.push(`${name}: ${ms}`);
    return typeof ms === 'number' ? ms : undefined;
  };
  const defaults = limitsOf(
    limit('FRESHNESS_MAX_AGE', vars.FRESHNESS_MAX_AGE),
    limit('FRESHNESS_MAX_LAG', vars.FRESHNESS_MAX_LAG),
  );
  const endpoints: Record<string, FreshnessLimits> = {};
  if (vars.FRESHNESS_ENDPOINTS !== undefined) {
    const parsed = parseJson(vars.FRESHNESS_ENDPOINTS, problems);
    if (parsed !== undefined && !isObject(parsed)) {
      problems.push('FRESHNESS_ENDPOINTS must be a JSON object: endpoint id → limits');
    }
    for (const [endpoint, value] of Object.entries(isObject(parsed) ? parsed : {})) {
      const where = `FRESHNESS_ENDPOINTS.${endpoint}`;
      if (!ID_PATTERN.test(endpoint)) {
        problems.push(
          `FRESHNESS_ENDPOINTS: ${JSON.stringify(endpoint)} is not an endpoint id (letters, digits, ".", "_", ":" and "-")`,
        );
      } else if (value === 'off') {
        endpoints[endpoint] = {};
      } else if (!isObject(value) || !onlyKnownFields(value)) {
        problems.push(
          `${where} must be "off" or an object with "max_age" and/or "max_lag" (a duration or "off")`,
        );
      } else {
        const field = (key: 'max_age' | 'max_lag', fallback: number | undefined) => {
          const text = value[key];
          if (text === undefined) return fallback;
          if (typeof text !== 'string') {
            problems.push(`${where}.${key} must be a string: a duration or "off"`);
            return undefined;
          }
          return limit(`${where}.${key}`, text);
        };
        endpoints[endpoint] = limitsOf(
          field('max_age', defaults.maxAgeMs),
          field('max_lag', defaults.maxLagMs),
        );
      }
    }
  }
  if (problems.length > 0) return problems;
  return { policy: { defaults, endpoints } };
}

function limitsOf(maxAgeMs: number | undefined, maxLagMs: number | undefined): FreshnessLimits {
  return {
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    ...(maxLagMs === undefined ? {} : { maxLagMs }),
  };
}

function parseJson(text: string, problems: string[]): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    problems.push(`FRESHNESS_ENDPOINTS is not JSON: ${(error as Error).message}`);
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKnownFields(value: Record<string, unknown>): boolean {
  return Object.keys(value).every((key) => key === 'max_age' || key === 'max_lag');
}
