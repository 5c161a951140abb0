import { describe, expect, it } from 'vitest';
import { parseRule, RuleSyntaxError, RULE_LIMITS } from './rule-parser.js';

describe('parseRule', () => {
  it('parses calls with every literal kind', () => {
    expect(parseRule("partial(3, '*****', 2)")).toEqual({
      kind: 'call', name: 'partial',
      args: [{ kind: 'number', value: 3, text: '3' }, { kind: 'string', value: '*****' }, { kind: 'number', value: 2, text: '2' }],
    });
    expect(parseRule("f(-1.5e2, true, FALSE, null, 'it''s')").args).toEqual([
      { kind: 'number', value: -150, text: '-1.5e2' }, { kind: 'bool', value: true }, { kind: 'bool', value: false }, { kind: 'null' }, { kind: 'string', value: "it's" },
    ]);
  });

  it('accepts bare null, case-insensitive names and whitespace', () => {
    expect(parseRule('null')).toEqual({ kind: 'call', name: 'null', args: [] });
    expect(parseRule('  NULL ')).toEqual({ kind: 'call', name: 'null', args: [] });
    expect(parseRule(' Partial_Email ( ) ').name).toBe('partial_email');
  });

  it('parses nested calls (ternary)', () => {
    const rule = parseRule('ternary(ge(90), constant(90), keep())');
    expect(rule.args.map((a) => a.kind)).toEqual(['call', 'call', 'call']);
  });

  it.each([
    ['', /empty/],
    ['partial(3, "x", 2)', /unexpected character '"'/],
    ["partial(3, 'x', 2", /expected '\)'/],
    ["partial(3, 'x)", /not closed/],
    ['partial(3,, 2)', /expected an argument/],
    ['noise(0.1); DROP TABLE x', /unexpected character ';'/],
    ["hash() || 'x'", /unexpected character '\|'/],
    ['noise(ratio)', /unexpected name 'ratio'/],
    ['noise(0.1) noise(0.2)', /after the function call/],
    ['ssn', /expected '\('/],
    ['f(1e999)', /not finite/],
  ])('rejects %j', (rule, message) => {
    expect(() => parseRule(rule)).toThrow(RuleSyntaxError);
    expect(() => parseRule(rule)).toThrow(message);
  });

  it('enforces its limits', () => {
    expect(() => parseRule(`constant('${'x'.repeat(RULE_LIMITS.maxStringLength + 1)}')`)).toThrow(/longer than/);
    expect(() => parseRule('x'.repeat(RULE_LIMITS.maxRuleLength + 1))).toThrow(/longer than/);
    expect(() => parseRule(`random_in(${Array.from({ length: RULE_LIMITS.maxArgs + 1 }, () => '1').join(',')})`)).toThrow(/more than 64 arguments/);
    expect(() => parseRule('a(b(c(d(e(f())))))')).toThrow(/nested/);
    expect(() => parseRule(`f(${'9'.repeat(40)})`)).toThrow(/number/);
  });

  it('keeps hostile text inside strings as data', () => {
    const rule = parseRule("constant('x''); DROP TABLE dataset; --')");
    expect(rule.args[0]).toEqual({ kind: 'string', value: "x'); DROP TABLE dataset; --" });
  });

  it('quotes only a short, printable excerpt in errors', () => {
    try {
      parseRule(`${'a'.repeat(39)}\u0000()`);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('\u0000');
    }
  });
});
