import { MAX_RENDERED_CHARS, checkDeclaredVariables, renderTemplate, templateNames } from '../template';

const sorted = (s: Set<string>) => [...s].sort();

test('templateNames reads top-level names, section names and the heads of dotted names from mustache\'s parse', () => {
  const n = templateNames('{{a}} {{{b}}} {{&c}} {{d.e.f}} {{! note}} {{=<% %>=}} <% g %> <%#items%><% h %><% . %><%/items%> <%^none%><% i %><%/none%>');
  expect(sorted(n.required)).toEqual(['a', 'b', 'c', 'd', 'g', 'i', 'items', 'none']);
  expect(sorted(n.mentioned)).toEqual(['a', 'b', 'c', 'd', 'g', 'h', 'i', 'items', 'none']);
});

test('a name inside a section counts as a use of a declared variable but need not be declared', () => {
  expect(checkDeclaredVariables('{{#docs}}{{title}} {{lang}}{{/docs}}', ['lang', 'docs'])).toEqual(['docs', 'lang']);
  expect(checkDeclaredVariables('{{#docs}}{{title}}{{/docs}}', ['docs'])).toEqual(['docs']);
  expect(() => checkDeclaredVariables('{{x}}', ['x', 'x'])).toThrow(/declared twice/);
});

test('renderTemplate leaves values unescaped and checks the variables before rendering', () => {
  expect(renderTemplate('{{a}}|{{{a}}}', ['a'], { a: '<&"\'>' })).toBe('<&"\'>|<&"\'>');
  expect(() => renderTemplate('{{a}}', ['a'], {})).toThrow(/"a" is missing/);
  expect(() => renderTemplate('{{a}}', ['a'], { a: 1, b: 2 })).toThrow(/"b" is not declared/);
});

test('a render that would grow past its bounds stops with BAD_USER_INPUT: nested sections over a list, or long text', () => {
  const list = Array.from({ length: 200 }, () => ({}));
  // 200^3 = 8,000,000 section bodies: refused long before the end.
  expect(() => renderTemplate('{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}', ['a'], { a: list })).toThrow(/steps/);
  expect(() => renderTemplate('{{#a}}{{b}}{{/a}}', ['a', 'b'], { a: list, b: 'x'.repeat(MAX_RENDERED_CHARS / 100) })).toThrow(/longer than/);
  expect(renderTemplate('{{#a}}{{b}}{{/a}}', ['a', 'b'], { a: list.slice(0, 3), b: 'xy' })).toBe('xyxyxy');
});
