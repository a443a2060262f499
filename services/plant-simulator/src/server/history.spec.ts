import { describe, expect, it } from 'vitest';
import { PlantModel } from '../model/plant-model';
import { ContinuationPoints } from './history';

describe('continuation points', () => {
  const model = new PlantModel({ seed: 'cp', shape: { machinesPerLine: 1, linesPerArea: 1 } });
  const [a, b] = model.tags;

  it('carry the resume time for the tag they were made for', () => {
    const points = new ContinuationPoints();
    expect(points.decode(a!, points.encode(a!, 1_750_000_123_000))).toBe(1_750_000_123_000);
  });

  it('are refused for another tag, from another server run, or when tampered with', () => {
    const points = new ContinuationPoints();
    const cp = points.encode(a!, 1_750_000_123_000);
    expect(points.decode(b!, cp)).toBeUndefined();
    expect(new ContinuationPoints().decode(a!, cp)).toBeUndefined();
    const tampered = Buffer.from(cp);
    tampered[5] = tampered[5]! ^ 1;
    expect(points.decode(a!, tampered)).toBeUndefined();
    expect(points.decode(a!, Buffer.from('nonsense'))).toBeUndefined();
  });
});
