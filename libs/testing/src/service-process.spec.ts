import { describe, expect, it } from 'vitest';
import { scrapeMetric } from './service-process';

const PAGE = [
  '# HELP weir_x_total things',
  '# TYPE weir_x_total counter',
  'weir_x_total{topic="a",service="s"} 3',
  'weir_x_total{topic="b",service="s"} 4',
  'weir_x_total{dlq_topic="a",service="s"} 100',
  'weir_x_total_more{topic="a"} 1000',
  'weir_y 7',
].join('\n');

describe('scrapeMetric', () => {
  it('sums the label sets that have every given label, matching whole label names and whole metric names', () => {
    expect(scrapeMetric(PAGE, 'weir_x_total')).toBe(107);
    expect(scrapeMetric(PAGE, 'weir_x_total', { topic: 'a' })).toBe(3);
    expect(scrapeMetric(PAGE, 'weir_x_total', { topic: 'a', service: 's' })).toBe(3);
    expect(scrapeMetric(PAGE, 'weir_y')).toBe(7);
    expect(scrapeMetric(PAGE, 'weir_z')).toBe(0);
  });
});
