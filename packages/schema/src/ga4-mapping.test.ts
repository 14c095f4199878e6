import { describe, expect, it } from 'vitest';
import { ga4EventProblems, isValidGa4Name } from './ga4-mapping.js';

describe('GA4 naming rules', () => {
  it('accepts letters, digits and underscores starting with a letter, up to 40 chars', () => {
    expect(isValidGa4Name('runtime_run_finished', 'event')).toBe(true);
    expect(isValidGa4Name('a'.repeat(40))).toBe(true);
    expect(isValidGa4Name('a'.repeat(41))).toBe(false);
    expect(isValidGa4Name('1run')).toBe(false);
    expect(isValidGa4Name('runtime.run')).toBe(false);
  });

  it('rejects reserved names and prefixes', () => {
    expect(isValidGa4Name('session_start', 'event')).toBe(false);
    expect(isValidGa4Name('session_start', 'param')).toBe(true);
    expect(isValidGa4Name('ga_thing')).toBe(false);
    expect(isValidGa4Name('firebase_x')).toBe(false);
  });

  it('reports oversize values and too many params', () => {
    const params: Record<string, string> = {};
    for (let i = 0; i < 26; i++) params[`p${i}`] = 'x';
    params.long = 'y'.repeat(101);
    const problems = ga4EventProblems({ name: 'ok_name', params });
    expect(problems).toContain('27 params exceed 25');
    expect(problems).toContain('param long value exceeds 100 characters');
  });
});
