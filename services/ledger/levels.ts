/** The highest level whose threshold the amount reaches (1-based), or 0 below level 1. Thresholds ascend. */
export function depositLevel(amount: bigint, thresholds: readonly bigint[]): number {
  let level = 0;
  thresholds.forEach((threshold, i) => {
    if (amount >= threshold) level = i + 1;
  });
  return level;
}
