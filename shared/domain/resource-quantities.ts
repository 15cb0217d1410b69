/**
 * Cloud Run's resource quantities as numbers, so a policy can compare them.
 *
 * Memory (https://cloud.google.com/run/docs/configuring/services/memory-limits):
 * a count of bytes with a Kubernetes-style suffix, binary (`Ki`, `Mi`, `Gi`,
 * `Ti`: powers of 1024) or decimal (`k`, `M`, `G`, `T`: powers of 1000), such
 * as `512Mi` or `4Gi`; no suffix is bytes.
 *
 * CPU (https://cloud.google.com/run/docs/configuring/services/cpu): vCPUs as
 * a number (`1`, `2`, `0.5`) or in thousandths with `m` (`1000m` = 1 vCPU).
 * Compared in millicpu, so `1` and `1000m` are equal.
 */

const MEMORY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const MEMORY_FACTORS: Readonly<Record<string, number>> = {
  '': 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  k: 1000,
  M: 1000 ** 2,
  G: 1000 ** 3,
  T: 1000 ** 4,
};
const CPU_CORES = /^\d+(?:\.\d+)?$/;
const CPU_MILLIS = /^\d+m$/;

/** Bytes of a memory quantity (`512Mi`, `4Gi`, `2G`), or undefined when it is not one. */
export function memoryBytes(quantity: string): number | undefined {
  const match = MEMORY.exec(quantity.trim());
  if (match === null) return undefined;
  const bytes = Number(match[1]) * (MEMORY_FACTORS[match[2] ?? ''] ?? Number.NaN);
  return Number.isFinite(bytes) ? Math.round(bytes) : undefined;
}

/** Millicpu of a CPU quantity (`2` → 2000, `0.5` → 500, `1000m` → 1000), or undefined. */
export function cpuMillis(quantity: string): number | undefined {
  const text = quantity.trim();
  let millis: number | undefined;
  if (CPU_MILLIS.test(text)) millis = Number(text.slice(0, -1));
  else if (CPU_CORES.test(text)) millis = Number(text) * 1000;
  return millis !== undefined && Number.isFinite(millis) ? Math.round(millis) : undefined;
}
