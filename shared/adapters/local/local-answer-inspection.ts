/**
 * What the router looks for in successful predict answers: degenerate
 * recommendations, which a revision can return with 200 while being broken
 * (an index that lost its vectors answers the same products with equal
 * scores for everyone). services/ann-serving logs the same definition as a
 * "degenerate answer" line, which a log-based metric counts in the cloud.
 *
 * A prediction is one element of `predictions` (row format) or one row of
 * `outputs` (columnar format), with a list of ids (`product_ids`, else its
 * other list) and `scores`. It is degenerate when it has no ids, when it has
 * two or more scores that are all equal, when a score is NaN (a query with a
 * non-finite input or embedding has no ranking; with k = 1 nothing can tie),
 * or when it has fewer ids than the request's top-level `k` (only when the
 * request says k): shared/domain/degenerate-answer.ts.
 */
import { degenerateReason } from '../../domain/degenerate-answer.js';

/** Counts over one answer: predictions looked at, and how many were degenerate. */
export interface AnswerInspection {
  readonly inspected: number;
  readonly degenerate: number;
}

/** A `POST …:predict` (TF Serving's predict route; any model, any version). */
export function isPredictRequest(method: string | undefined, url: string | undefined): boolean {
  return method === 'POST' && (url ?? '').split('?', 1)[0]!.endsWith(':predict');
}

/**
 * Inspects a predict answer's body against its request's body (for k).
 * Undefined when the answer is not JSON or holds no predictions this can
 * read (another model's output): such answers are not counted at all.
 */
export function inspectPredictAnswer(
  answerBody: string,
  requestBody: string | undefined,
): AnswerInspection | undefined {
  const answer = parseJson(answerBody);
  const rows = predictionRows(answer);
  if (rows === undefined) return undefined;
  const k = requestBody === undefined ? undefined : requestedK(parseJson(requestBody));
  let degenerate = 0;
  for (const { ids, scores } of rows) {
    if (degenerateReason(ids, scores, k) !== undefined) degenerate += 1;
  }
  return { inspected: rows.length, degenerate };
}

interface PredictionRow {
  readonly ids: readonly unknown[];
  readonly scores: readonly unknown[];
}

function predictionRows(answer: unknown): PredictionRow[] | undefined {
  if (!isObject(answer)) return undefined;
  const { predictions, outputs } = answer;
  if (Array.isArray(predictions)) {
    const rows = predictions.map(rowOf);
    return rows.every((row) => row !== undefined) ? rows : undefined;
  }
  if (isObject(outputs)) {
    const row = rowOf(outputs);
    if (!row || !row.ids.every(Array.isArray) || !row.scores.every(Array.isArray)) {
      return undefined;
    }
    const ids = row.ids as unknown[][];
    const scores = row.scores as unknown[][];
    return ids.map((list, i) => ({ ids: list, scores: scores[i] ?? [] }));
  }
  return undefined;
}

/** A prediction object's ids (product_ids, else its first list other than scores) and scores. */
function rowOf(prediction: unknown): PredictionRow | undefined {
  if (!isObject(prediction)) return undefined;
  const scores = prediction.scores;
  let ids = prediction.product_ids;
  if (!Array.isArray(ids)) {
    ids = Object.entries(prediction).find(
      ([name, value]) => name !== 'scores' && Array.isArray(value),
    )?.[1];
  }
  if (!Array.isArray(ids) && !Array.isArray(scores)) return undefined;
  return {
    ids: Array.isArray(ids) ? (ids as unknown[]) : [],
    scores: Array.isArray(scores) ? (scores as unknown[]) : [],
  };
}

/** The request's top-level integer `k`, if it has one. */
function requestedK(request: unknown): number | undefined {
  if (!isObject(request)) return undefined;
  const k = request.k;
  return typeof k === 'number' && Number.isInteger(k) && k >= 1 ? k : undefined;
}

/**
 * JSON.parse, retried with bare NaN/±Infinity tokens (TF Serving writes
 * non-finite scores that way) turned into strings, which still compare equal
 * to each other.
 */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    try {
      return JSON.parse(text.replace(/(?<=[[,:]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '"$1"'));
    } catch {
      return undefined;
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Keeps a copy of a body as it streams past, up to `limitBytes`; beyond
 * that it lets go of what it kept, and the body is not inspected (a huge
 * answer must not cost the router its memory).
 */
export class BodyTap {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;

  constructor(private readonly limitBytes: number) {}

  push(chunk: Buffer | string): void {
    if (this.overflowed) return;
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.size += buffer.length;
    if (this.size > this.limitBytes) {
      this.overflowed = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(buffer);
  }

  /** The body as text, or undefined when it was larger than the limit. */
  text(): string | undefined {
    return this.overflowed ? undefined : Buffer.concat(this.chunks).toString('utf8');
  }
}
