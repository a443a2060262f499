/** A parsed Sigma `condition` expression. */
export type ConditionNode =
  | { type: 'ref'; name: string }
  | { type: 'of'; quantifier: 'one' | 'all'; pattern: string }
  | { type: 'not'; operand: ConditionNode }
  | { type: 'and' | 'or'; operands: ConditionNode[] };

type Token = { kind: 'word'; text: string; pos: number } | { kind: '('; pos: number } | { kind: ')'; pos: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\()|(\))|([^\s()]+))/gy;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1]) tokens.push({ kind: '(', pos: m.index });
    else if (m[2]) tokens.push({ kind: ')', pos: m.index });
    else if (m[3]) tokens.push({ kind: 'word', text: m[3], pos: m.index });
    else break;
  }
  return tokens;
}

/**
 * Parses a Sigma condition: identifiers (with `*` wildcards only inside `of`),
 * `and`, `or`, `not`, parentheses, `1 of <pattern>`, `all of <pattern>`,
 * `1 of them`, `all of them`. Precedence per the specification: not > and > or.
 * Throws an Error whose message says where the expression is wrong.
 */
export function parseCondition(text: string): ConditionNode {
  const tokens = tokenize(text);
  let i = 0;
  const peekWord = (): string | undefined => {
    const t = tokens[i];
    return t?.kind === 'word' ? t.text.toLowerCase() : undefined;
  };
  const fail = (what: string): never => {
    const t = tokens[i];
    throw new Error(`condition "${text}": ${what} at ${t ? `"${t.kind === 'word' ? t.text : t.kind}" (column ${t.pos + 1})` : 'the end'}`);
  };
  const parseOr = (): ConditionNode => {
    const operands = [parseAnd()];
    while (peekWord() === 'or') {
      i++;
      operands.push(parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { type: 'or', operands };
  };
  const parseAnd = (): ConditionNode => {
    const operands = [parseNot()];
    while (peekWord() === 'and') {
      i++;
      operands.push(parseNot());
    }
    return operands.length === 1 ? operands[0]! : { type: 'and', operands };
  };
  const parseNot = (): ConditionNode => {
    if (peekWord() === 'not') {
      i++;
      return { type: 'not', operand: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): ConditionNode => {
    const t = tokens[i];
    if (!t) return fail('expected an identifier');
    if (t.kind === '(') {
      i++;
      const inner = parseOr();
      if (tokens[i]?.kind !== ')') fail('expected ")"');
      i++;
      return inner;
    }
    if (t.kind === ')') return fail('unexpected ")"');
    const word = t.text.toLowerCase();
    if (word === 'and' || word === 'or' || word === 'of') return fail(`unexpected "${t.text}"`);
    const next = tokens[i + 1];
    if ((word === '1' || word === 'all' || word === 'any') && next?.kind === 'word' && next.text.toLowerCase() === 'of') {
      const target = tokens[i + 2];
      if (target?.kind !== 'word') {
        i += 2;
        return fail('expected a pattern or "them" after "of"');
      }
      i += 3;
      return { type: 'of', quantifier: word === 'all' ? 'all' : 'one', pattern: target.text };
    }
    if (/^\d+$/.test(word) && next?.kind === 'word' && next.text.toLowerCase() === 'of') return fail('only "1 of" and "all of" are Sigma quantifiers');
    if (!/^[A-Za-z0-9_.*-]+$/.test(t.text) || t.text.includes('*')) return fail('not a search identifier');
    i++;
    return { type: 'ref', name: t.text };
  };
  if (tokens.length === 0) throw new Error('condition is empty');
  const node = parseOr();
  if (i < tokens.length) fail('unexpected token');
  return node;
}

/** The search identifiers a pattern (`selection_*`, `them`) stands for; `them` skips identifiers starting with `_`. */
export function expandPattern(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern.toLowerCase() === 'them') return identifiers.filter((n) => !n.startsWith('_'));
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return identifiers.filter((n) => re.test(n));
}
