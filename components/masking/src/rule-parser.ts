// The rule language: one function call per column, written as text by the data owner, e.g.
// `partial(3, '*****', 2)`. Arguments are literals (strings in single quotes with '' escaping, numbers,
// true/false, null) or, for ternary(), nested calls. The grammar is tiny on purpose, and every limit is
// strict: a rule is parsed into an AST and never pasted into SQL.

export const RULE_LIMITS = {
  maxRuleLength: 2000,
  maxArgs: 64,
  maxStringLength: 1000,
  maxNumberLength: 32,
  maxDepth: 4,
  maxNameLength: 40,
} as const;

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number; text: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' };

export interface Call {
  kind: 'call';
  name: string;
  args: Arg[];
}

export type Arg = Literal | Call;

/** A rule that cannot be parsed; the message says what and where, quoting at most a short excerpt. */
export class RuleSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleSyntaxError';
  }
}

type Token =
  | { type: 'name'; text: string; at: number }
  | { type: 'string'; value: string; at: number }
  | { type: 'number'; text: string; at: number }
  | { type: 'punct'; text: '(' | ')' | ','; at: number }
  | { type: 'end'; at: number };

const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** A short, printable excerpt of hostile text for an error message. */
export function excerpt(text: string, max = 24): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const ch = rule[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ type: 'punct', text: ch, at: i });
      i++;
    } else if (ch === "'") {
      const { value, next } = readString(rule, i);
      tokens.push({ type: 'string', value, at: i });
      i = next;
    } else {
      const rest = rule.slice(i);
      const number = NUMBER.exec(rest);
      const name = NAME.exec(rest);
      if (number) {
        if (number[0].length > RULE_LIMITS.maxNumberLength) throw new RuleSyntaxError(`number at position ${i} is longer than ${RULE_LIMITS.maxNumberLength} characters`);
        tokens.push({ type: 'number', text: number[0], at: i });
        i += number[0].length;
      } else if (name) {
        if (name[0].length > RULE_LIMITS.maxNameLength) throw new RuleSyntaxError(`name at position ${i} is longer than ${RULE_LIMITS.maxNameLength} characters`);
        tokens.push({ type: 'name', text: name[0], at: i });
        i += name[0].length;
      } else {
        throw new RuleSyntaxError(`unexpected character '${excerpt(ch)}' at position ${i}; strings go in single quotes`);
      }
    }
  }
  tokens.push({ type: 'end', at: rule.length });
  return tokens;
}

function readString(rule: string, start: number): { value: string; next: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= rule.length) throw new RuleSyntaxError(`string starting at position ${start} is not closed with '`);
    const ch = rule[i]!;
    if (ch === "'") {
      if (rule[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      break;
    }
    value += ch;
    i++;
  }
  if (value.length > RULE_LIMITS.maxStringLength) throw new RuleSyntaxError(`string at position ${start} is longer than ${RULE_LIMITS.maxStringLength} characters`);
  return { value, next: i + 1 };
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private take(): Token {
    const token = this.tokens[this.position]!;
    if (token.type !== 'end') this.position++;
    return token;
  }

  private expect(text: '(' | ')' | ','): void {
    const token = this.take();
    if (token.type !== 'punct' || token.text !== text) throw new RuleSyntaxError(`expected '${text}' at position ${token.at}, found ${describe(token)}`);
  }

  parseRule(): Call {
    const call = this.parseTop();
    const rest = this.peek();
    if (rest.type !== 'end') throw new RuleSyntaxError(`unexpected ${describe(rest)} after the function call`);
    return call;
  }

  /** At top level, `null` alone (destruction) is accepted as a call of null(). */
  private parseTop(): Call {
    const token = this.peek();
    if (token.type === 'name' && token.text.toLowerCase() === 'null' && this.tokens[this.position + 1]?.type === 'end') {
      this.take();
      return { kind: 'call', name: 'null', args: [] };
    }
    return this.parseCall(0);
  }

  private parseCall(depth: number): Call {
    if (depth >= RULE_LIMITS.maxDepth) throw new RuleSyntaxError(`calls are nested more than ${RULE_LIMITS.maxDepth} deep`);
    const token = this.take();
    if (token.type !== 'name') throw new RuleSyntaxError(`expected a function name at position ${token.at}, found ${describe(token)}`);
    this.expect('(');
    const args: Arg[] = [];
    if (!(this.peek().type === 'punct' && (this.peek() as { text: string }).text === ')')) {
      for (;;) {
        if (args.length >= RULE_LIMITS.maxArgs) throw new RuleSyntaxError(`more than ${RULE_LIMITS.maxArgs} arguments`);
        args.push(this.parseArg(depth));
        const next = this.peek();
        if (next.type === 'punct' && next.text === ',') {
          this.take();
          continue;
        }
        break;
      }
    }
    this.expect(')');
    return { kind: 'call', name: token.text.toLowerCase(), args };
  }

  private parseArg(depth: number): Arg {
    const token = this.peek();
    if (token.type === 'string') {
      this.take();
      return { kind: 'string', value: token.value };
    }
    if (token.type === 'number') {
      this.take();
      const value = Number(token.text);
      if (!Number.isFinite(value)) throw new RuleSyntaxError(`number ${excerpt(token.text)} is not finite`);
      return { kind: 'number', value, text: token.text };
    }
    if (token.type === 'name') {
      const lower = token.text.toLowerCase();
      const next = this.tokens[this.position + 1];
      const isCall = next?.type === 'punct' && next.text === '(';
      if (!isCall && (lower === 'true' || lower === 'false')) {
        this.take();
        return { kind: 'bool', value: lower === 'true' };
      }
      if (!isCall && lower === 'null') {
        this.take();
        return { kind: 'null' };
      }
      if (isCall) return this.parseCall(depth + 1);
      throw new RuleSyntaxError(`unexpected name '${excerpt(token.text)}' at position ${token.at}; arguments are literals (strings go in single quotes)`);
    }
    throw new RuleSyntaxError(`expected an argument at position ${token.at}, found ${describe(token)}`);
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'end': return 'the end of the rule';
    case 'punct': return `'${token.text}'`;
    case 'name': return `'${excerpt(token.text)}'`;
    case 'number': return `number ${excerpt(token.text)}`;
    case 'string': return 'a string';
  }
}

/** Parses one rule (`partial(3, '*****', 2)`, `null`, `ternary(ge(90), constant(90), keep())`). */
export function parseRule(rule: string): Call {
  if (typeof rule !== 'string') throw new RuleSyntaxError('a rule must be a string');
  if (rule.length > RULE_LIMITS.maxRuleLength) throw new RuleSyntaxError(`rule is longer than ${RULE_LIMITS.maxRuleLength} characters`);
  if (rule.trim() === '') throw new RuleSyntaxError('rule is empty');
  return new Parser(tokenize(rule)).parseRule();
}
