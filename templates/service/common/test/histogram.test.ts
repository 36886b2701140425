import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesHistogram } from '../src/platform/histogram.js';

// prom-client's own Histogram is the oracle: the same observations, the same exposition.

const buckets = [0.001, 0.005, 0.01, 0.1, 1];

/** The exposition's sample lines, each label set sorted, so label order does not count. */
function samples(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/\{(.*)\}/, (_, labels: string) => `{${labels.split(',').sort().join(',')}}`))
    .sort();
}

describe('SeriesHistogram', () => {
  it('serves what prom-client serves for the same observations, bounds included', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const histogram = new SeriesHistogram<'route'>('t_seconds', 'help', buckets, ours);
    const reference = new Histogram({ name: 't_seconds', help: 'help', labelNames: ['route'], buckets, registers: [theirs] });
    const routes = ['/a', '/b'];
    const observe = routes.map((route) => histogram.series({ route }));
    // every bound exactly, values between and beyond them, at random
    const values = [...buckets, 0, 2, ...Array.from({ length: 500 }, () => Math.random() * 1.5)];
    for (const [index, value] of values.entries()) {
      observe[index % 2]!(value);
      reference.observe({ route: routes[index % 2]! }, value);
    }
    const text = await ours.metrics();
    expect(samples(text)).toEqual(samples(await theirs.metrics()));
    expect(text).toContain('# TYPE t_seconds histogram');

    ours.resetMetrics();
    reference.reset();
    observe[0]!(0.002);
    reference.observe({ route: '/a' }, 0.002);
    // prom-client drops a reset series until it is observed again; ours keeps it at zero
    expect(samples(await ours.metrics()).filter((line) => line.includes('/a'))).toEqual(samples(await theirs.metrics()));
  });
});
