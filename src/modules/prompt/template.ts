import Mustache from 'mustache';
import { badInput } from '../../core/graphql/errors';

/** How a declared variable is named: what a template can read at its top level and a client can pass as a JSON key. */
export const VARIABLE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
export const VARIABLE_RULE = 'must match [A-Za-z][A-Za-z0-9_-]{0,63}';

/**
 * mustache.js's token: [type, value, start, end, children (sections), ...]. Types: 'text',
 * 'name' ({{x}}), '&' ({{&x}} and {{{x}}}), '#' and '^' (sections, children at [4]),
 * '>' (partial), '!' (comment), '=' (delimiter change).
 */
type Token = [string, string, number, number, Token[]?, ...unknown[]];

/**
 * A fresh writer per call: mustache's shared writer caches every template it parsed, for the
 * life of the process, and prompt templates are many and user-written.
 */
function tokensOf(template: string): Token[] {
  try {
    return new Mustache.Writer().parse(template) as unknown as Token[];
  } catch (err) {
    // mustache's parse errors say what is unclosed and where ("Unclosed section "x" at 12").
    throw badInput(`template is not valid mustache: ${(err as Error).message}`, 'template');
  }
}

/** The variable a tag reads from the data it is given: the first segment of a dotted name. */
const head = (name: string) => name.split('.')[0];

export interface TemplateNames {
  /** Names the template reads from the variables it is rendered with (outside any section, and section names). */
  required: Set<string>;
  /** Every name it mentions, including inside sections, where a name may be a field of the section's value. */
  mentioned: Set<string>;
}

/**
 * The names a template reads, from mustache's own parse. Outside sections and inside inverted
 * sections ({{^x}}), a tag reads the top-level variables; a section's name is one too. Inside a
 * section ({{#items}}...{{/items}}) a name is first looked up in the section's value (a list's
 * items, an object), so it is not required to be declared, but it counts as a use of a declared
 * variable of that name (mustache falls back to the outer data). `.` is the current item.
 */
export function templateNames(template: string): TemplateNames {
  const required = new Set<string>();
  const mentioned = new Set<string>();
  const walk = (tokens: Token[], inSection: boolean) => {
    for (const [type, value, , , children] of tokens) {
      if (type === '>') throw badInput(`template uses the partial "${value}"; prompts have no partials`, 'template');
      if (type !== 'name' && type !== '&' && type !== '#' && type !== '^') continue;
      if (value !== '.') {
        const name = head(value);
        mentioned.add(name);
        if (!inSection) required.add(name);
      }
      if (children) walk(children, inSection || type === '#');
    }
  };
  walk(tokensOf(template), false);
  return { required, mentioned };
}

/**
 * Checks a template against the variables it declares: every variable the template requires is
 * declared and every declared one is used. The first mismatch is BAD_USER_INPUT naming it.
 * Answers the declared names, sorted.
 */
export function checkDeclaredVariables(template: string, declared: string[]): string[] {
  declared.forEach((v, i) => {
    if (!VARIABLE_PATTERN.test(v)) throw badInput(`variables.${i} ${VARIABLE_RULE}`, `variables.${i}`);
  });
  const names = templateNames(template);
  const unique = new Set(declared);
  if (unique.size !== declared.length) {
    const repeated = declared.find((v, i) => declared.indexOf(v) !== i)!;
    throw badInput(`variable "${repeated}" is declared twice`, 'variables');
  }
  for (const name of [...names.required].sort()) {
    if (!VARIABLE_PATTERN.test(name)) throw badInput(`template reads "${name}", which is not a valid variable name (${VARIABLE_RULE})`, 'template');
    if (!unique.has(name)) throw badInput(`template reads the variable "${name}", which is not declared`, 'variables');
  }
  for (const name of [...unique].sort()) {
    if (!names.mentioned.has(name)) throw badInput(`variable "${name}" is declared but the template never uses it`, 'variables');
  }
  return [...unique].sort();
}

/**
 * Renders a version's template with exactly its declared variables: a missing or an extra one
 * is BAD_USER_INPUT naming it. No HTML escaping: a prompt is text for a model, not HTML, and
 * `&` or `<` must reach the model as written.
 */
export function renderTemplate(template: string, declared: string[], variables: Record<string, unknown>): string {
  const given = Object.keys(variables);
  const missing = declared.find((v) => !Object.prototype.hasOwnProperty.call(variables, v));
  if (missing !== undefined) throw badInput(`variable "${missing}" is missing`, `variables.${missing}`);
  const extra = given.find((v) => !declared.includes(v));
  if (extra !== undefined) throw badInput(`variable "${extra}" is not declared by this version`, `variables.${extra}`);
  return new BoundedWriter().render(template, variables, {}, { escape: (s: unknown) => String(s) });
}

/** What one render may do: sections nested over lists multiply, so small variables can ask for a great deal. */
export const MAX_RENDERED_CHARS = 1_000_000;
export const MAX_RENDER_STEPS = 1_000_000;

/**
 * mustache's writer, counting as it goes: every token it visits (a section visits its body once
 * per item) and every character it emits. Past either bound it stops with BAD_USER_INPUT, before
 * the work or the text grows further, instead of rendering {{#a}}{{#a}}{{#a}}...{{/a}}{{/a}}{{/a}}
 * over a long list to the end.
 */
class BoundedWriter extends Mustache.Writer {
  private steps = 0;
  private chars = 0;

  override renderTokens(...args: Parameters<Mustache.Writer['renderTokens']>): string {
    // A call counts even for an empty body: a section over a list still walks every item.
    this.steps += Math.max(1, args[0].length);
    if (this.steps > MAX_RENDER_STEPS) {
      throw badInput(`rendering takes more than ${MAX_RENDER_STEPS.toLocaleString('en-US')} steps; pass shorter lists`, 'variables');
    }
    return super.renderTokens(...args);
  }

  override rawValue(token: string[]): string {
    return this.emitted(super.rawValue(token));
  }

  override escapedValue(...args: Parameters<Mustache.Writer['escapedValue']>): string {
    return this.emitted(super.escapedValue(...args));
  }

  override unescapedValue(...args: Parameters<Mustache.Writer['unescapedValue']>): string {
    return this.emitted(super.unescapedValue(...args));
  }

  private emitted(value: unknown): string {
    // mustache skips undefined (a missing name) and concatenates anything else as a string.
    if (value === undefined || value === null) return value as unknown as string;
    this.chars += String(value).length;
    if (this.chars > MAX_RENDERED_CHARS) {
      throw badInput(`the rendered prompt is longer than ${MAX_RENDERED_CHARS.toLocaleString('en-US')} characters`, 'variables');
    }
    return value as string;
  }
}
