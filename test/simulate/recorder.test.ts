import { describe, expect, it } from 'vitest';
import { Recorder } from '../../src/simulate/load/recorder.js';
import { evaluateSlos, parseSlo } from '../../src/simulate/load/slo.js';

describe('latency percentiles', () => {
  it('never read above the largest latency recorded (HdrHistogram answers with the top of a bucket)', () => {
    const recorder = new Recorder((() => 0) as never, () => 'all');
    recorder.answer(200, 41.902);
    const { summary, phases, distribution, series } = recorder.finish();
    // one request: every percentile is that request
    expect(summary.latency).toEqual({ p50: 41.902, p90: 41.902, p95: 41.902, p99: 41.902, p999: 41.902, max: 41.902, mean: 41.902 });
    expect(phases.all).toMatchObject({ p50: 41.902, p99: 41.902 });
    expect(distribution.every((point) => point.ms === 41.902)).toBe(true);
    expect(series[0]).toMatchObject({ p50: 41.902, p99: 41.902 });
    // before, p99 read 41.919 ms and this SLO failed on a latency no request took
    expect(evaluateSlos([parseSlo('p99<41.91ms')], summary)[0]).toMatchObject({ passed: true });
  });

  it('stay in order and within a thousandth of the exact ones, up to the max (2,000 random latencies)', () => {
    const recorder = new Recorder();
    let seed = 7;
    const random = () => ((seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647);
    const latencies = Array.from({ length: 2_000 }, () => Math.round(random() ** 3 * 500_000) / 1000 + 0.05);
    for (const ms of latencies) recorder.answer(200, ms);
    const { latency } = recorder.finish().summary;
    const sorted = [...latencies].sort((a, b) => a - b);
    // the smallest latency at least that share of the requests took (0.999 × 2,000 is
    // 1,998.0000000000002 in floating point: rounded first)
    const exact = (percentile: number) => sorted[Math.ceil(Math.round(percentile * sorted.length) / 100) - 1]!;
    const read = [latency.p50, latency.p90, latency.p95, latency.p99, latency.p999, latency.max];
    expect(read).toEqual([...read].sort((a, b) => a - b));
    expect(latency.max).toBe(sorted.at(-1));
    for (const [percentile, value] of [[50, latency.p50], [90, latency.p90], [99, latency.p99], [99.9, latency.p999]] as const) {
      expect(value).toBeGreaterThanOrEqual(exact(percentile));
      expect(value).toBeLessThanOrEqual(Math.min(exact(percentile) * 1.001 + 0.001, latency.max));
    }
  });
});
