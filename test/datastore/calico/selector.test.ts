// Calico's selector language: Calico's own test tables (fixtures/selector-cases.json, with provenance) and
// property tests whose oracle is an independent renderer/evaluator written here from Calico's documented rules.
import test from 'ava';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  evaluateSelector,
  parseSelector,
  printSelector,
  SelectorError,
  tokenizeSelector,
  type Selector,
} from '../../../src/datastore/calico/selector.js';
import { fixedSeeds } from '../../helpers/property.js';

fixedSeeds('test/datastore/calico/selector.test.ts');

interface Cases {
  selectors: Array<{ selector: string; matches: Record<string, string>[]; nonMatches: Record<string, string>[] }>;
  badSelectors: string[];
  canonical: Array<{ input: string; expected: string }>;
  tokens: Array<{ input: string; tokens: Array<[string] | [string, string]> }>;
  badTokens: string[];
}
const cases = JSON.parse(readFileSync(new URL('./fixtures/selector-cases.json', import.meta.url), 'utf8')) as Cases;

test("Calico's selectorTests: matches and non-matches, also after canonicalising", (t) => {
  t.true(cases.selectors.length > 50);
  for (const c of cases.selectors) {
    const sel = parseSelector(c.selector);
    const again = parseSelector(printSelector(sel));
    for (const l of c.matches) {
      t.true(evaluateSelector(sel, l), `${c.selector} should match ${JSON.stringify(l)}`);
      t.true(evaluateSelector(again, l), `${printSelector(sel)} should match ${JSON.stringify(l)}`);
    }
    for (const l of c.nonMatches) {
      t.false(evaluateSelector(sel, l), `${c.selector} should not match ${JSON.stringify(l)}`);
      t.false(evaluateSelector(again, l), `${printSelector(sel)} should not match ${JSON.stringify(l)}`);
    }
  }
});

test("Calico's badSelectors and failing tokenizer inputs are SelectorErrors with a position", (t) => {
  for (const text of [...cases.badSelectors, ...cases.badTokens]) {
    const err = t.throws(() => parseSelector(text), { instanceOf: SelectorError }, text);
    t.true(err!.position >= 0 && err!.position <= text.length, `${text}: position ${err!.position}`);
    t.true(err!.message.startsWith(`selector ${JSON.stringify(text)}: `), err!.message);
  }
});

test("Calico's canonicalisationTests: the canonical text, and it round-trips", (t) => {
  for (const c of cases.canonical) {
    const printed = printSelector(parseSelector(c.input));
    t.is(printed, c.expected, c.input);
    t.is(printSelector(parseSelector(printed)), printed);
  }
});

test("Calico's tokenTests: the same token streams", (t) => {
  for (const c of cases.tokens) t.deepEqual(tokenizeSelector(c.input), c.tokens, c.input);
});

test('errors say what and where', (t) => {
  const at = (text: string): [number, string] => {
    try {
      parseSelector(text);
    } catch (e) {
      if (e instanceof SelectorError) return [e.position, e.reason];
      throw e;
    }
    return [-1, 'parsed'];
  };
  t.deepEqual(at("route-reflector = 'true'"), [16, 'expected "=="']);
  t.deepEqual(at("a == 'x"), [5, 'unterminated string']);
  t.deepEqual(at('has(a) && b'), [11, 'expected an operator after label "b", found the end of the selector']);
  t.deepEqual(at('a == "x" b'), [9, 'unexpected label "b" after a complete selector']);
  t.deepEqual(at('a in {"x" "y"}'), [10, 'expected a string or "}" in the set, found string "y"']);
  t.deepEqual(at('(has(a)'), [7, 'expected ")" to close the "(" at position 0, found the end of the selector']);
  t.deepEqual(at('has(a)\n'), [6, 'expected a label name, found "\\n"']);
  t.regex(at('a'.repeat(513))[1], /longer than 512/);
});

test('label keys with a prefix, empty values, absent labels, quoting', (t) => {
  const labels = { 'projectcalico.org/route-reflector': '', 'topology.kubernetes.io/zone': 'eu-west-1a', 'a"b': 'x' };
  const m = (s: string, l: Record<string, string> = labels): boolean => evaluateSelector(parseSelector(s), l);
  t.true(m('has(projectcalico.org/route-reflector)'), 'an empty value counts for has()');
  t.true(m("projectcalico.org/route-reflector == ''"));
  t.true(m('topology.kubernetes.io/zone starts with "eu-" && topology.kubernetes.io/zone ends with \'1a\''));
  t.true(m("missing != 'x' && missing not in {'x'}"), '!= and not in are true on an absent label');
  t.false(m("missing == '' || missing in {''} || missing contains ''"), 'the rest are false on an absent label');
  t.true(m("x contains ''", { x: '' }));
  t.true(m("!(route-reflector == 'true')", {}));
  t.false(m("route-reflector == 'True'", { 'route-reflector': 'true' }), 'case-sensitive');
  const map = new Map([['route-reflector', 'true']]);
  t.true(evaluateSelector(parseSelector("route-reflector == 'true'"), map));
  t.false(evaluateSelector(parseSelector('has(constructor) || has(__proto__)'), {}), 'only own labels');
});

// ---- property tests ----

/** Strings with at most one kind of quote (a Calico string literal has no escapes). */
const text = fc
  .string({ unit: fc.constantFrom('a', 'b', ' ', "'", '"', '&', '|', '(', ')', '{', '}', ',', '!', '=', 'é', '😀', '\t'), maxLength: 6 })
  .filter((s) => !(s.includes('"') && s.includes("'")));
const labelName = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('a', 'b', 'c', 'in', 'has', 'all', 'contains', 'not', 'starts', 'calico/k8s_ns', 'x.y-z_1') },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', 'Z', '0', '_', '.', '/', '-'), minLength: 1, maxLength: 12 }) },
);
const utf8Sort = (xs: string[]): string[] => [...new Set(xs)].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

const { sel: selArb } = fc.letrec<{ sel: Selector; nonNot: Selector }>((tie) => ({
  sel: fc.oneof({ depthSize: 'small' }, tie('nonNot'), tie('nonNot').map((operand): Selector => ({ kind: 'not', operand }))),
  nonNot: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Selector>({ kind: 'all' }, { kind: 'global' }),
    labelName.map((label): Selector => ({ kind: 'has', label })),
    fc
      .tuple(fc.constantFrom('eq', 'ne', 'contains', 'startsWith', 'endsWith' as const), labelName, text)
      .map(([kind, label, value]): Selector => ({ kind, label, value })),
    fc
      .tuple(fc.constantFrom('in', 'notIn' as const), labelName, fc.array(text, { maxLength: 4 }))
      .map(([kind, label, values]): Selector => ({ kind, label, values: utf8Sort(values) })),
    fc
      .tuple(fc.constantFrom('and', 'or' as const), fc.array(tie('sel'), { minLength: 2, maxLength: 3 }))
      .map(([kind, operands]): Selector => ({ kind, operands })),
  ),
}));

/** The reference semantics, from the table in Calico's docs (calico-v3-bgp.md §2), independent of the module. */
function reference(s: Selector, l: Record<string, string>): boolean {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(l, k);
  switch (s.kind) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return has(s.label);
    case 'not':
      return !reference(s.operand, l);
    case 'and':
      return s.operands.reduce((acc, o) => reference(o, l) && acc, true);
    case 'or':
      return s.operands.reduce((acc, o) => reference(o, l) || acc, false);
    case 'eq':
      return has(s.label) && l[s.label] === s.value;
    case 'ne':
      return !has(s.label) || l[s.label] !== s.value;
    case 'contains':
      return has(s.label) && l[s.label]!.indexOf(s.value) >= 0;
    case 'startsWith':
      return has(s.label) && l[s.label]!.slice(0, s.value.length) === s.value;
    case 'endsWith':
      return has(s.label) && l[s.label]!.length >= s.value.length && l[s.label]!.slice(l[s.label]!.length - s.value.length) === s.value;
    case 'in':
      return has(s.label) && s.values.some((v) => v === l[s.label]);
    case 'notIn':
      return !has(s.label) || s.values.every((v) => v !== l[s.label]);
  }
}

/** Random choices for an independent, loose rendering of an AST as a user might write it. */
type Pick = (n: number) => number;
function render(s: Selector, pick: Pick, inOr = false): string {
  const ws = (): string => ['', ' ', '  ', '\t', ' \t '][pick(5)]!;
  const ws1 = (): string => [' ', '\t', '  '][pick(3)]!;
  const q = (v: string): string => (v.includes('"') ? `'${v}'` : v.includes("'") ? `"${v}"` : pick(2) ? `'${v}'` : `"${v}"`);
  const wrapped = (x: string): string => (pick(4) === 0 ? `(${ws()}${x}${ws()})` : x);
  const doubleNot = (x: string): string => (pick(5) === 0 ? `!${ws()}!${ws()}${x}` : x);
  let out: string;
  switch (s.kind) {
    case 'all':
      out = `all(${ws()})`;
      break;
    case 'global':
      out = `global(${ws()})`;
      break;
    case 'has':
      out = `has(${ws()}${s.label}${ws()})`;
      break;
    case 'not':
      return `!${ws()}${render(s.operand, pick)}`;
    case 'and':
    case 'or': {
      const glue = s.kind === 'and' ? '&&' : '||';
      const body = s.operands.map((o) => render(o, pick, s.kind === 'or')).join(`${ws()}${glue}${ws()}`);
      // && binds tighter than ||, so an && group directly inside || may drop its parentheses.
      return s.kind === 'and' && inOr && pick(2) === 0 ? body : `(${ws()}${body}${ws()})`;
    }
    case 'in':
    case 'notIn': {
      const values = [...s.values];
      if (values.length > 0 && pick(2) === 0) values.push(values[0]!); // duplicates collapse
      if (pick(2) === 0) values.reverse(); // order does not matter
      const op = s.kind === 'in' ? 'in' : ['not in', 'notin', 'not \t in'][pick(3)]!;
      const trailing = values.length > 0 && pick(3) === 0 ? `,${ws()}` : '';
      out = `${s.label}${ws1()}${op}${ws()}{${ws()}${values.map(q).join(`${ws()},${ws()}`)}${trailing}}`;
      break;
    }
    default: {
      const words = { eq: ['=='], ne: ['!='], contains: ['contains'], startsWith: ['starts with', 'startswith'], endsWith: ['ends with', 'endswith'] }[s.kind];
      const op = words[pick(words.length)]!;
      out = `${s.label}${/^[a-z]/.test(op) ? ws1() : ws()}${op}${ws()}${q(s.value)}`;
    }
  }
  return doubleNot(wrapped(out));
}

test('property: print(ast) parses back to the same AST', (t) => {
  fc.assert(
    fc.property(selArb, (ast) => {
      const printed = printSelector(ast);
      t.deepEqual(parseSelector(printed), ast, printed);
    }),
    { numRuns: 1000 },
  );
});

const labelMap = fc.dictionary(
  fc.constantFrom('a', 'b', 'c', 'in', 'has', 'calico/k8s_ns', 'x.y-z_1'),
  fc.oneof(text, fc.constantFrom('', 'a', 'b', 'ab')),
  { maxKeys: 4 },
);

test('property: loosely written selectors parse to the intended AST and evaluate as the reference does', (t) => {
  fc.assert(
    fc.property(selArb, fc.infiniteStream(fc.nat(1000)), fc.array(labelMap, { minLength: 1, maxLength: 5 }), (ast, stream, maps) => {
      const it = stream[Symbol.iterator]();
      const pick: Pick = (n) => (it.next().value as number) % n;
      const written = `${pick(2) ? ' ' : ''}${render(ast, pick)}${pick(2) ? '\t' : ''}`;
      const parsed = parseSelector(written);
      t.deepEqual(parsed, ast, written);
      for (const l of maps) t.is(evaluateSelector(parsed, l), reference(ast, l), `${written} on ${JSON.stringify(l)}`);
    }),
    { numRuns: 1000 },
  );
});

test('property: any string either parses (and then round-trips) or is a SelectorError inside it', (t) => {
  const fragment = fc.constantFrom(
    'a', 'b', ' ', '\t', '\n', '(', ')', '{', '}', ',', '!', '=', '==', '!=', '&', '&&', '|', '||', "'", '"', 'in', 'not', 'notin',
    'contains', 'starts', 'with', 'ends', 'has(', 'all(', 'global(', ')', 'x/y', '%', 'é', '\u0000',
  );
  fc.assert(
    fc.property(fc.oneof(fc.array(fragment, { maxLength: 14 }).map((a) => a.join('')), fc.string({ maxLength: 20 })), (s) => {
      let ast: Selector;
      try {
        ast = parseSelector(s);
      } catch (e) {
        t.true(e instanceof SelectorError, `${JSON.stringify(s)}: ${String(e)}`);
        const pos = (e as SelectorError).position;
        t.true(Number.isInteger(pos) && pos >= 0 && pos <= s.length, `${JSON.stringify(s)}: ${pos}`);
        return;
      }
      t.deepEqual(parseSelector(printSelector(ast)), ast, s);
    }),
    { numRuns: 3000 },
  );
});
