const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/** Share of the run's wall time spent on the GPU, clamped to [0, 1]; undefined without a duration. */
export function gpuRatio(
  gpuWallNs: number | undefined,
  durationUs: number | undefined,
): number | undefined {
  if (gpuWallNs === undefined || durationUs === undefined || durationUs <= 0) return undefined;
  return clamp01(gpuWallNs / (durationUs * 1000));
}

/** Fusion cache hit ratio, clamped to [0, 1]; undefined when the cache was never consulted. */
export function fusionHitRatio(
  hits: number | undefined,
  misses: number | undefined,
): number | undefined {
  const total = (hits ?? 0) + (misses ?? 0);
  if (total <= 0) return undefined;
  return clamp01((hits ?? 0) / total);
}
