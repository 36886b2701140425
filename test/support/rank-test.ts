/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The one-sided Mann–Whitney U test (Wilcoxon rank sum): were `larger` and `smaller` drawn
 * from one distribution, the probability that `larger`'s values would exceed `smaller`'s in
 * at least as many pairs as they do (a tie counts a half, rounded down: the p-value errs
 * high). Exact, from the number of orderings of the pooled values giving each U, so it
 * holds for the few values an e2e test has. A small p-value says `larger` is larger.
 */
export function rankSumPValue(larger: readonly number[], smaller: readonly number[]): number {
  let u = 0;
  for (const x of larger) for (const y of smaller) u += x > y ? 1 : x === y ? 0.5 : 0;
  const counts = orderingsByU(larger.length, smaller.length);
  const total = counts.reduce((sum, count) => sum + count, 0);
  let atLeast = 0;
  for (let value = Math.floor(u); value < counts.length; value += 1) atLeast += counts[value]!;
  return atLeast / total;
}

/** For samples of m and n values, how many of the C(m + n, m) orderings give U = 0, 1, …,
 * m·n: the last value of the pooled order is either one of the m (above all n others: U
 * gains n) or one of the n (U gains nothing). */
function orderingsByU(m: number, n: number): number[] {
  // byN[j] holds the counts for (i, j) as i grows
  let byN: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i += 1) {
    const next: number[][] = [[1]];
    for (let j = 1; j <= n; j += 1) {
      const counts = new Array<number>(i * j + 1).fill(0);
      byN[j]!.forEach((count, value) => (counts[value + j]! += count)); // (i - 1, j): one of the m last
      next[j - 1]!.forEach((count, value) => (counts[value]! += count)); // (i, j - 1): one of the n last
      next.push(counts);
    }
    byN = next;
  }
  return byN[n]!;
}
