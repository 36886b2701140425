import { describe, expect, it } from 'vitest';
import { median, rankSumPValue } from './rank-test.js';

/** Every way of splitting the pooled values into the two samples' sizes: the share of them
 * whose U is at least the one observed (the permutation test, enumerated). */
function enumerated(larger: number[], smaller: number[]): number {
  const pooled = [...larger, ...smaller];
  const u = (a: number[], b: number[]) => a.reduce((sum, x) => sum + b.reduce((s, y) => s + (x > y ? 1 : x === y ? 0.5 : 0), 0), 0);
  const observed = Math.floor(u(larger, smaller));
  let atLeast = 0;
  let total = 0;
  for (let mask = 0; mask < 1 << pooled.length; mask += 1) {
    const a = pooled.filter((_, index) => mask & (1 << index));
    if (a.length !== larger.length) continue;
    total += 1;
    if (u(a, pooled.filter((_, index) => !(mask & (1 << index)))) >= observed) atLeast += 1;
  }
  return atLeast / total;
}

describe('rank-sum test', () => {
  it('gives the permutation test\'s p-value', () => {
    const cases: [number[], number[]][] = [
      [[5, 7, 9, 11], [1, 2, 3, 4, 6]],
      [[1, 2, 3], [4, 5, 6, 7]],
      [[3.1, 8.2, 0.5, 6.6, 2.2], [4.4, 1.9, 7.3, 5.0, 9.9, 0.1]],
    ];
    for (const [larger, smaller] of cases) expect(rankSumPValue(larger, smaller)).toBeCloseTo(enumerated(larger, smaller), 12);
  });

  it('matches the tables: 10 against 10, U = 73 is the first one-sided 5% value', () => {
    // smaller: 0, 10, …, 90; larger: values above exactly U of the 100 pairs
    const smaller = Array.from({ length: 10 }, (_, index) => index * 10);
    const at = (u: number) => {
      const larger = Array.from({ length: 10 }, (_, index) => {
        const above = Math.min(10, Math.max(0, u - index * 10));
        return above * 10 - 5;
      });
      return rankSumPValue(larger, smaller);
    };
    expect(at(73)).toBeLessThan(0.05);
    expect(at(72)).toBeGreaterThan(0.05);
    expect(at(50)).toBeGreaterThan(0.5);
  });

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
