// User-facing texts in English and Russian, from locales/<lang>.json (flat "area.name" keys).
// Every text is Telegram HTML (send with parse_mode "HTML"): parameter values are escaped here, so a user's
// name or any other outside text can never inject markup. Wrap already-safe markup with `trustedHtml()`.
//
// A number that words agree with is written as an ICU MessageFormat plural, e.g.
//   "{count, plural, one {# person} other {# people}}"        (en: one, other)
//   "{count, plural, one {# человек} few {# человека} many {# человек} other {# человека}}"   (ru)
// `#` is the number; the branch is chosen by Intl.PluralRules (Node's ICU, with CLDR's rules for each language).
// Only this subset of MessageFormat is understood (no select, no nesting, no =N branches): it covers every text the
// bot has, and a full MessageFormat library would be a dependency for a 60-line parser. docs/bot-texts.md.
import { readFileSync } from 'node:fs';

export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

export type Catalog = Readonly<Record<string, string>>;

/** A template, parsed: literal text, a {placeholder}, the `#` of a plural branch, or a plural. */
type Part =
  | string
  | { param: string }
  | { number: true }
  | { plural: string; forms: Partial<Record<Intl.LDMLPluralRule, Part[]>> };

const PLURAL_CATEGORIES: readonly Intl.LDMLPluralRule[] = ['zero', 'one', 'two', 'few', 'many', 'other'];

export class TranslationError extends Error {}

/** Parses a template; throws TranslationError naming what is wrong (a catalog with a broken text never loads). */
export function parseTemplate(template: string): Part[] {
  let at = 0;
  const fail = (what: string): never => {
    throw new TranslationError(`${what} at character ${at} of "${template}"`);
  };
  const parts = (inPlural: boolean): Part[] => {
    const out: Part[] = [];
    let text = '';
    const flush = () => {
      if (text) out.push(text);
      text = '';
    };
    while (at < template.length) {
      const char = template[at]!;
      if (char === '}') {
        if (!inPlural) fail('a "}" without its "{"');
        break;
      }
      if (char === '#' && inPlural) {
        flush();
        out.push({ number: true });
        at += 1;
        continue;
      }
      if (char !== '{') {
        text += char;
        at += 1;
        continue;
      }
      flush();
      const head = /^\{(\w+)(\}|\s*,\s*plural\s*,)/.exec(template.slice(at));
      if (!head) fail('a "{" that starts neither {name} nor {name, plural, …}');
      at += head![0].length;
      if (head![2] === '}') {
        out.push({ param: head![1]! });
        continue;
      }
      if (inPlural) fail('a plural inside a plural');
      out.push({ plural: head![1]!, forms: forms() });
    }
    flush();
    return out;
  };
  const forms = (): Partial<Record<Intl.LDMLPluralRule, Part[]>> => {
    const result: Partial<Record<Intl.LDMLPluralRule, Part[]>> = {};
    for (;;) {
      const next = /^\s*(?:(\w+)\s*\{|\})/.exec(template.slice(at));
      if (!next) fail('a plural branch that is not "category {text}"');
      at += next![0].length;
      const category = next![1] as Intl.LDMLPluralRule | undefined;
      if (category === undefined) break; // the plural's closing "}"
      if (!PLURAL_CATEGORIES.includes(category)) fail(`"${category}", which is no plural category`);
      if (result[category]) fail(`the plural category "${category}" twice`);
      result[category] = parts(true);
      if (template[at] !== '}') fail('a plural branch without its "}"');
      at += 1;
    }
    if (!result.other) fail('a plural without its "other" branch');
    return result;
  };
  return parts(false);
}

function loadCatalog(language: Language): Catalog {
  const url = new URL(`../locales/${language}.json`, import.meta.url);
  const parsed = JSON.parse(readFileSync(url, 'utf8')) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`locales/${language}.json must be a JSON object`);
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Error(`locales/${language}.json: "${key}" must be a string`);
    try {
      parseTemplate(value);
    } catch (error) {
      throw new Error(`locales/${language}.json: "${key}" has ${(error as Error).message}`);
    }
  }
  return Object.freeze(parsed as Record<string, string>);
}

const catalogs: Record<Language, Catalog> = { en: loadCatalog('en'), ru: loadCatalog('ru') };

/** Markup that is already safe HTML (e.g. a text built from other t() results) and must not be escaped again. */
export class TrustedHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export const trustedHtml = (html: string): TrustedHtml => new TrustedHtml(html);

export type Param = string | number | bigint | TrustedHtml;
export type Params = Record<string, Param>;

// A missing text is a bug: loud everywhere but production, where the key itself is shown instead.
const strict = (): boolean => process.env.NODE_ENV !== 'production';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Telegram's language_code ("ru", "ru-RU", "en-US", undefined) → a language we have texts for. */
export function languageOf(languageCode: string | null | undefined): Language {
  return languageCode && /^ru\b/i.test(languageCode) ? 'ru' : DEFAULT_LANGUAGE;
}

export function hasKey(key: string, language: Language = DEFAULT_LANGUAGE): boolean {
  return Object.hasOwn(catalogs[language], key);
}

/** Every key of a language's catalog (tests compare the two catalogs). */
export function keysOf(language: Language): string[] {
  return Object.keys(catalogs[language]);
}

const textOf = (catalog: Catalog, key: string): string | undefined =>
  Object.hasOwn(catalog, key) ? catalog[key] : undefined;

const pluralRules = new Map<string, Intl.PluralRules>();
const rulesOf = (language: Language): Intl.PluralRules => {
  let rules = pluralRules.get(language);
  if (!rules) pluralRules.set(language, (rules = new Intl.PluralRules(language)));
  return rules;
};

/** The CLDR plural categories of a language (en: one, other; ru: one, few, many, other), sorted. */
export const pluralCategoriesOf = (language: Language): Intl.LDMLPluralRule[] =>
  [...rulesOf(language).resolvedOptions().pluralCategories].sort();

export type Translate = (language: Language | string | null | undefined, key: string, params?: Params) => string;

/** A t() over the given catalogs (tests build one with a catalog that lacks a text). */
export function createTranslator(from: Record<Language, Catalog>, isStrict: () => boolean = strict): Translate {
  const parsed = new Map<string, Part[]>();
  const partsOf = (lang: Language, key: string, template: string) => {
    const id = `${lang}\u0000${key}`;
    let parts = parsed.get(id);
    if (!parts) parsed.set(id, (parts = parseTemplate(template)));
    return parts;
  };
  return (language, key, params = {}) => {
    const lang = (LANGUAGES as readonly string[]).includes(language ?? '')
      ? (language as Language)
      : languageOf(language);
    const own = textOf(from[lang], key);
    const template = own ?? textOf(from[DEFAULT_LANGUAGE], key);
    if (template === undefined) {
      if (isStrict()) throw new TranslationError(`no text for "${key}" in locales/${DEFAULT_LANGUAGE}.json`);
      return key;
    }
    const textLang = own === undefined ? DEFAULT_LANGUAGE : lang;
    const missing = (name: string, placeholder: string): string => {
      if (isStrict()) throw new TranslationError(`text "${key}" needs the parameter {${name}}`);
      return placeholder;
    };
    const render = (parts: Part[], count?: Param): string =>
      parts
        .map((part) => {
          if (typeof part === 'string') return part;
          if ('number' in part) return escapeHtml(String(count));
          if ('param' in part) {
            const value = params[part.param];
            if (value === undefined) return missing(part.param, `{${part.param}}`);
            return value instanceof TrustedHtml ? value.html : escapeHtml(String(value));
          }
          const value = params[part.plural];
          if (value === undefined) return missing(part.plural, `{${part.plural}}`);
          const number = Number(value instanceof TrustedHtml ? value.html : value);
          if (!Number.isFinite(number) && isStrict())
            throw new TranslationError(`text "${key}" needs a number for {${part.plural}}, not "${String(value)}"`);
          const category = Number.isFinite(number) ? rulesOf(textLang).select(number) : 'other';
          return render(part.forms[category] ?? part.forms.other!, value);
        })
        .join('');
    return render(partsOf(textLang, key, template));
  };
}

/** The text for `key` in `language` (falling back to English) with {placeholders} filled in and HTML-escaped. */
export const t: Translate = createTranslator(catalogs);

function walk(parts: Part[], visit: (part: Part) => void): void {
  for (const part of parts) {
    visit(part);
    if (typeof part === 'object' && 'plural' in part) for (const form of Object.values(part.forms)) walk(form, visit);
  }
}

/** The parameters a template uses, plural arguments included (tests check both languages agree). */
export function placeholdersOf(language: Language, key: string): string[] {
  const names = new Set<string>();
  walk(parseTemplate(textOf(catalogs[language], key) ?? ''), (part) => {
    if (typeof part !== 'object') return;
    if ('param' in part) names.add(part.param);
    if ('plural' in part) names.add(part.plural);
  });
  return [...names].sort();
}

/** Each plural of a template: its argument and the categories it has branches for, sorted (tests check CLDR's). */
export function pluralsOf(language: Language, key: string): { argument: string; categories: string[] }[] {
  const plurals: { argument: string; categories: string[] }[] = [];
  walk(parseTemplate(textOf(catalogs[language], key) ?? ''), (part) => {
    if (typeof part === 'object' && 'plural' in part)
      plurals.push({ argument: part.plural, categories: Object.keys(part.forms).sort() });
  });
  return plurals;
}
