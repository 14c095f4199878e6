/**
 * Evaluates the small subset of Terraform condition syntax the image variables
 * use: `can(regex("P", var.x))` terms, optionally negated, joined by `&&`.
 * Anything else throws, so a rewritten condition fails the test instead of
 * being silently skipped.
 */
export function evaluateRegexCondition(condition: string, value: string): boolean {
  const m = /^\$\{(.*)\}$/s.exec(condition.trim());
  if (!m) throw new Error(`not an expression: ${condition}`);
  return m[1]!.split('&&').every((raw) => {
    const term = /^\s*(!?)can\(regex\("((?:[^"\\]|\\.)*)",\s*var\.[A-Za-z0-9_]+\)\)\s*$/.exec(raw);
    if (!term) throw new Error(`unsupported condition term: ${raw}`);
    const pattern = term[2]!.replace(/\\(.)/g, '$1');
    const matches = new RegExp(pattern).test(value);
    return term[1] === '!' ? !matches : matches;
  });
}
