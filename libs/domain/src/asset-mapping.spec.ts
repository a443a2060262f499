import { describe, expect, it } from 'vitest';
import { AssetMappingError, compileAssetMapping, globToRegExp, partitionByMapping, type AssetMappingRule, type SeriesRef } from './index';

const temp: SeriesRef = { sourceId: 'plant-hamburg', nodeId: 'ns=2;s=Site01.Area01.Line01.Machine01.Temperature', browsePath: 'Plant/Site01/Area01/Line01/Machine01/Temperature' };

describe('explicit rules', () => {
  it('map one node of one source', () => {
    const mapper = compileAssetMapping([{ kind: 'explicit', sourceId: 'plant-hamburg', nodeId: temp.nodeId, assetId: 'filler1' }]);
    expect(mapper.resolve(temp)).toEqual({ assetId: 'filler1', rule: 'explicit[0]' });
    expect(mapper.resolve({ ...temp, sourceId: 'plant-bremen' })).toBeUndefined();
  });

  it('without a source id match the node of any source', () => {
    const mapper = compileAssetMapping([{ kind: 'explicit', name: 'historian tag', nodeId: 'FIC101.PV', assetId: 'pump7', assetPath: 'acme/hamburg/utilities/pump7' }]);
    expect(mapper.resolve({ sourceId: 'pi-1', nodeId: 'FIC101.PV' })).toEqual({ assetId: 'pump7', rule: 'historian tag', assetPath: 'acme/hamburg/utilities/pump7' });
  });
});

describe('pattern rules', () => {
  it('build the asset id from glob captures over the browse path, with case modifiers', () => {
    const mapper = compileAssetMapping([{ kind: 'pattern', target: 'browsePath', glob: 'Plant/*/*/*/*/*', assetId: '${4:lower}-${3:lower}', assetPath: 'acme/$1/$2/$3/$4' }]);
    expect(mapper.resolve(temp)).toEqual({ assetId: 'machine01-line01', rule: 'pattern[0]', assetPath: 'acme/Site01/Area01/Line01/Machine01' });
  });

  it('let ** span segments while * stays within one', () => {
    expect(globToRegExp('Plant/**/Temperature').test('Plant/Site01/Area01/Line01/Machine01/Temperature')).toBe(true);
    expect(globToRegExp('Plant/*/Temperature').test('Plant/Site01/Area01/Temperature')).toBe(false);
    expect(globToRegExp('Line0?/x.y').test('Line01/x.y')).toBe(true);
    expect(globToRegExp('Line0?/x.y').test('Line01/xzy')).toBe(false);
  });

  it('use named regex captures over the node id', () => {
    const mapper = compileAssetMapping([{ kind: 'pattern', target: 'nodeId', regex: '^ns=2;s=(?<site>\\w+)\\.\\w+\\.(?<line>\\w+)\\.(?<machine>\\w+)\\.', assetId: '${machine}', assetPath: '${site:lower}/${line:lower}/${machine:lower}' }]);
    expect(mapper.resolve(temp)).toEqual({ assetId: 'Machine01', rule: 'pattern[0]', assetPath: 'site01/line01/machine01' });
  });

  it('do not match a series without a browse path, nor another source', () => {
    const mapper = compileAssetMapping([{ kind: 'pattern', sourceId: 'plant-hamburg', target: 'browsePath', glob: '**', assetId: 'x$1' }]);
    expect(mapper.resolve({ sourceId: 'plant-hamburg', nodeId: 'a' })).toBeUndefined();
    expect(mapper.resolve({ ...temp, sourceId: 'other' })).toBeUndefined();
    expect(mapper.resolve(temp)?.assetId).toBe('xPlant/Site01/Area01/Line01/Machine01/Temperature');
  });

  it('skip a match whose capture is empty and try the next rule', () => {
    const mapper = compileAssetMapping([
      { kind: 'pattern', target: 'nodeId', regex: '^ns=2;s=(\\w*)\\.', assetId: '$1' },
      { kind: 'pattern', target: 'nodeId', regex: '^ns=2;s=(.*)$', assetId: 'fallback-$1' },
    ]);
    expect(mapper.resolve({ sourceId: 's', nodeId: 'ns=2;s=.x' })).toEqual({ assetId: 'fallback-.x', rule: 'pattern[1]' });
  });

  it('keep a literal dollar with $$', () => {
    const mapper = compileAssetMapping([{ kind: 'pattern', target: 'nodeId', regex: '(x)', assetId: '$$$1' }]);
    expect(mapper.resolve({ sourceId: 's', nodeId: 'x' })?.assetId).toBe('$x');
  });
});

describe('rule order', () => {
  const rules: AssetMappingRule[] = [
    { kind: 'pattern', name: 'line-level tags', target: 'browsePath', glob: 'Plant/*/*/*/Speed', assetId: '$3' },
    { kind: 'explicit', name: 'special', nodeId: temp.nodeId, assetId: 'special-asset' },
    { kind: 'pattern', name: 'machines', target: 'browsePath', glob: 'Plant/*/*/*/*/*', assetId: '$4' },
  ];
  const mapper = compileAssetMapping(rules);

  it('an explicit rule beats a pattern listed after it', () => {
    expect(mapper.resolve(temp)).toEqual({ assetId: 'special-asset', rule: 'special' });
  });

  it('a pattern listed before an explicit rule beats it', () => {
    const m = compileAssetMapping([{ kind: 'pattern', name: 'first', target: 'nodeId', regex: 'Machine01', assetId: 'm1' }, ...rules]);
    expect(m.resolve(temp)).toEqual({ assetId: 'm1', rule: 'first' });
  });

  it('falls through to later patterns for other nodes', () => {
    expect(mapper.resolve({ ...temp, nodeId: 'other', browsePath: 'Plant/Site01/Area01/Line01/Machine02/Temperature' })).toEqual({ assetId: 'Machine02', rule: 'machines' });
    expect(mapper.resolve({ ...temp, nodeId: 'other2', browsePath: 'Plant/Site01/Area01/Line02/Speed' })).toEqual({ assetId: 'Line02', rule: 'line-level tags' });
  });
});

describe('unmapped series', () => {
  it('are listed, not dropped', () => {
    const mapper = compileAssetMapping([{ kind: 'explicit', nodeId: 'a', assetId: 'A' }]);
    const series = [{ sourceId: 's', nodeId: 'a' }, { sourceId: 's', nodeId: 'b' }, { sourceId: 't', nodeId: 'c' }];
    const { mapped, unmapped } = partitionByMapping(mapper, series);
    expect(mapped.map((m) => [m.series.nodeId, m.match.assetId])).toEqual([['a', 'A']]);
    expect(unmapped).toEqual([{ sourceId: 's', nodeId: 'b' }, { sourceId: 't', nodeId: 'c' }]);
  });
});

describe('invalid rules', () => {
  it('are all reported at once, each with its index and name', () => {
    try {
      compileAssetMapping([
        { kind: 'pattern', name: 'broken', target: 'nodeId', regex: '(', assetId: 'x' },
        { kind: 'pattern', target: 'nodeId', glob: '*', regex: '.*', assetId: 'x' },
        { kind: 'pattern', target: 'nodeId', regex: '(a)', assetId: '$2' },
        { kind: 'pattern', target: 'nodeId', regex: '(a)', assetId: '${nope}' },
        { kind: 'pattern', target: 'nodeId', regex: '(a)', assetId: '${1:title}' },
        { kind: 'explicit', nodeId: '', assetId: '' },
      ]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AssetMappingError);
      const problems = (err as AssetMappingError).problems;
      expect(problems).toHaveLength(7);
      expect(problems[0]).toMatch(/^rule 0 \(broken\): invalid regex/);
      expect(problems[1]).toMatch(/^rule 1 \(pattern\[1\]\): give exactly one of glob and regex/);
      expect(problems[2]).toMatch(/capture "2" but the pattern has 1 numbered capture/);
      expect(problems[3]).toMatch(/capture "nope" but the pattern has no such named capture/);
      expect(problems[4]).toMatch(/unknown modifier "title"/);
      expect(problems.slice(5)).toEqual(['rule 5 (explicit[5]): nodeId is empty', 'rule 5 (explicit[5]): assetId is empty']);
    }
  });
});
