import { describe, expect, it } from 'vitest';
import { isQuickMode } from './bench-mode.js';
import { finishFigure, parseTargetText } from './figure.js';
import { adaptPackageResult } from './package-results.js';
import { END_MARKER, replaceSection, START_MARKER } from './readme-section.js';

describe('figures', () => {
  it('reads text targets and decides met from the direction', () => {
    expect(parseTargetText('>= 200000')).toEqual({ target: 200000, direction: 'higher' });
    expect(parseTargetText('<= 1.5 ms')).toEqual({ target: 1.5, direction: 'lower' });
    expect(parseTargetText('fast')).toBeUndefined();
    const f = finishFigure({
      source: 's',
      name: 'n',
      value: 40,
      unit: 'ms',
      target: 50,
      direction: 'lower',
      ceiling: 20,
      method: 'm',
    });
    expect(f.met).toBe(true);
    expect(f.ratio).toBe(2);
  });

  it('quick mode comes from --quick or BENCH_QUICK', () => {
    expect(isQuickMode(['node', 'x', '--quick'], {})).toBe(true);
    expect(isQuickMode(['node', 'x'], { BENCH_QUICK: '1' })).toBe(true);
    expect(isQuickMode(['node', 'x'], { BENCH_QUICK: '0' })).toBe(false);
  });
});

describe('package results', () => {
  it('takes a figures list as it is, keeping the package verdict', () => {
    const r = adaptPackageResult('schema', 'f.json', {
      figures: [{ name: 'parse', value: 10, unit: 'events/s', target: '>= 20', met: false }],
    });
    expect(r.hasTargets).toBe(true);
    expect(r.figures[0]).toMatchObject({ name: 'parse', value: 10, target: 20, met: false });
  });

  it('pairs targets with measured fields and lists checks', () => {
    const r = adaptPackageResult('client', 'c.json', {
      targets: { callerP99Us: 20 },
      caller: { p99Us: 25 },
      checks: { callerP99: false },
    });
    expect(r.figures[0]).toMatchObject({ name: 'callerP99Us', value: 25, target: 20, met: false });
    expect(r.checks).toEqual([{ source: 'client', name: 'callerP99', met: false }]);
  });

  it('falls back to raw numbers when there is nothing to compare', () => {
    const r = adaptPackageResult('sink', 's.json', {
      results: [{ scenario: 'batch', eventsPerSecond: 5 }],
    });
    expect(r.hasTargets).toBe(false);
    expect(r.raw).toEqual([{ name: 'results[batch].eventsPerSecond', value: 5 }]);
  });
});

describe('README section', () => {
  it('replaces only the text between the markers', () => {
    const readme = `a\n${START_MARKER}\nold\n${END_MARKER}\nb\n`;
    expect(replaceSection(readme, 'new')).toBe(`a\n${START_MARKER}\nnew\n${END_MARKER}\nb\n`);
    expect(() => replaceSection('no markers', 'x')).toThrow(/markers/);
  });
});
