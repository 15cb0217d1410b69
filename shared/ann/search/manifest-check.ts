/** Validation of a parsed index.json, field by field, with messages that name the field. */
import path from 'node:path';
import { ID_PATTERN } from '@recdeploy/events';
import type { ShardFile } from './shard-build.js';

/** Bumped on any incompatible change to the index directory's layout or manifest. */
export const INDEX_FORMAT_VERSION = 1;

/** The first thing wrong with a parsed manifest, or undefined when it is usable. */
export function manifestProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'is not a JSON object';
  const m = value as Record<string, unknown>;
  if (m.format_version !== INDEX_FORMAT_VERSION) {
    return `format_version ${String(m.format_version)} is not the supported ${INDEX_FORMAT_VERSION}`;
  }
  if (m.transform !== 'normalize' && m.transform !== 'mips-l2') {
    return 'transform must be "normalize" or "mips-l2"';
  }
  const space = m.transform === 'normalize' ? 'ip' : 'l2';
  if (m.space !== space) return `space must be "${space}" for transform ${m.transform}`;
  for (const key of ['m', 'ef_construction', 'ef', 'k', 'count', 'dim'] as const) {
    if (!Number.isInteger(m[key]) || (m[key] as number) < 1)
      return `${key} must be a positive integer`;
  }
  if (typeof m.candidates_sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.candidates_sha256)) {
    return 'candidates_sha256 must be a sha256 hex digest';
  }
  if (
    m.training_run_id !== undefined &&
    (typeof m.training_run_id !== 'string' || !ID_PATTERN.test(m.training_run_id))
  ) {
    return 'training_run_id must be an id (letters, digits, ".", "_", ":" and "-")';
  }
  if (!Array.isArray(m.shards) || m.shards.length === 0) return 'shards must be a non-empty array';
  let rows = 0;
  for (const [i, shard] of (m.shards as unknown[]).entries()) {
    const problem = shardProblem(shard, m.transform === 'mips-l2');
    if (problem) return `shards[${i}]${problem}`;
    rows += (shard as ShardFile).count;
  }
  if (rows !== m.count) return `shards hold ${rows} rows in all, not count ${String(m.count)}`;
  return undefined;
}

function shardProblem(value: unknown, mips: boolean): string | undefined {
  const s = value as Partial<ShardFile> | null;
  if (typeof s?.file !== 'string' || path.basename(s.file) !== s.file || s.file.startsWith('.')) {
    return '.file must be a file name inside the index directory';
  }
  if (!Number.isInteger(s.count) || (s.count as number) < 1)
    return '.count must be a positive integer';
  const max = s.max_norm_squared;
  if (mips !== (typeof max === 'number' && max >= 0)) {
    return '.max_norm_squared must be a non-negative number exactly when transform is mips-l2';
  }
  return undefined;
}
