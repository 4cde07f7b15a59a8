// User-facing texts in English and Russian, from locales/<lang>.json (flat "area.name" keys).
// Every text is Telegram HTML (send with parse_mode "HTML"): parameter values are escaped here, so a user's
// name or any other outside text can never inject markup. Wrap already-safe markup with `trustedHtml()`.
//
// A number that words agree with is written as an ICU MessageFormat plural, e.g.
//   "{count, plural, one {# person} other {# people}}"        (en: one, other)
//   "{count, plural, one {# человек} few {# человека} many {# человек} other {# человека}}"   (ru)
// `#` is the number; FormatJS's intl-messageformat formats it and picks the branch with Intl.PluralRules (CLDR's rules
// for each language). Telegram HTML tags stay literal text (ignoreTag). docs/bot-texts.md.
import {
  isArgumentElement,
  isPluralElement,
  isSelectElement,
  parse,
  type MessageFormatElement,
} from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import { readFileSync } from 'node:fs';

export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

export type Catalog = Readonly<Record<string, string>>;

const PLURAL_CATEGORIES: readonly string[] = ['zero', 'one', 'two', 'few', 'many', 'other'];

export class TranslationError extends Error {}

/**
 * Parses a template (throws TranslationError naming what is wrong, so a catalog with a broken text never loads): a
 * plural needs its "other" branch, and each branch is a CLDR category or an exact `=N`.
 */
export function parseTemplate(template: string): MessageFormatElement[] {
  let elements: MessageFormatElement[];
  try {
    elements = parse(template, { ignoreTag: true, requiresOtherClause: true });
  } catch (error) {
    throw new TranslationError(`${(error as Error).message} in "${template}"`);
  }
  walk(elements, (element) => {
    if (!isPluralElement(element)) return;
    for (const selector of Object.keys(element.options))
      if (!PLURAL_CATEGORIES.includes(selector) && !/^=\d+$/.test(selector))
        throw new TranslationError(`"${selector}", which is no plural category, in "${template}"`);
  });
  return elements;
}

function walk(elements: MessageFormatElement[], visit: (element: MessageFormatElement) => void): void {
  for (const element of elements) {
    visit(element);
    if (isPluralElement(element) || isSelectElement(element))
      for (const option of Object.values(element.options)) walk(option.value, visit);
  }
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

/** The CLDR plural categories of a language (en: one, other; ru: one, few, many, other), sorted. */
export const pluralCategoriesOf = (language: Language): Intl.LDMLPluralRule[] =>
  [...new Intl.PluralRules(language).resolvedOptions().pluralCategories].sort();

export type Translate = (language: Language | string | null | undefined, key: string, params?: Params) => string;

// Counts are shown as they are (1000, not "1,000"): amounts and ids elsewhere in the same texts are not grouped either.
const formatters = {
  getNumberFormat: (locales?: string | string[], options?: Intl.NumberFormatOptions) =>
    new Intl.NumberFormat(locales, { ...options, useGrouping: false }),
  getDateTimeFormat: (locales?: string | string[], options?: Intl.DateTimeFormatOptions) =>
    new Intl.DateTimeFormat(locales, options),
  getPluralRules: (locales?: string | string[], options?: Intl.PluralRulesOptions) =>
    new Intl.PluralRules(locales, options),
};

interface Compiled {
  format: IntlMessageFormat;
  /** Every parameter the text uses, and those that choose a plural branch. */
  params: string[];
  plurals: Set<string>;
}

function compile(template: string, language: Language): Compiled {
  const elements = parseTemplate(template);
  const params = new Set<string>();
  const plurals = new Set<string>();
  walk(elements, (element) => {
    if (isArgumentElement(element) || isPluralElement(element) || isSelectElement(element)) params.add(element.value);
    if (isPluralElement(element)) plurals.add(element.value);
  });
  return {
    format: new IntlMessageFormat(elements, language, undefined, { formatters, ignoreTag: true }),
    params: [...params].sort(),
    plurals,
  };
}

/** A t() over the given catalogs (tests build one with a catalog that lacks a text). */
export function createTranslator(from: Record<Language, Catalog>, isStrict: () => boolean = strict): Translate {
  const compiled = new Map<string, Compiled>();
  const compiledOf = (lang: Language, key: string, template: string) => {
    const id = `${lang}\u0000${key}`;
    let text = compiled.get(id);
    if (!text) compiled.set(id, (text = compile(template, lang)));
    return text;
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
    const text = compiledOf(own === undefined ? DEFAULT_LANGUAGE : lang, key, template);
    const values: Record<string, string> = {};
    for (const name of text.params) {
      const value = params[name];
      if (value === undefined) {
        if (isStrict()) throw new TranslationError(`text "${key}" needs the parameter {${name}}`);
        // Lenient (production): a missing count leaves the text as written, any other gap shows its {name}.
        if (text.plurals.has(name)) return template;
        values[name] = `{${name}}`;
        continue;
      }
      const shown = value instanceof TrustedHtml ? value.html : escapeHtml(String(value));
      if (text.plurals.has(name) && !Number.isFinite(Number(shown))) {
        if (isStrict()) throw new TranslationError(`text "${key}" needs a number for {${name}}, not "${shown}"`);
        return template;
      }
      values[name] = shown;
    }
    return text.format.format<string>(values) as string;
  };
}

/** The text for `key` in `language` (falling back to English) with {placeholders} filled in and HTML-escaped. */
export const t: Translate = createTranslator(catalogs);

/** The parameters a template uses, plural arguments included (tests check both languages agree). */
export function placeholdersOf(language: Language, key: string): string[] {
  return compile(textOf(catalogs[language], key) ?? '', language).params;
}

/** Each plural of a template: its argument and the categories it has branches for, sorted (tests check CLDR's). */
export function pluralsOf(language: Language, key: string): { argument: string; categories: string[] }[] {
  const plurals: { argument: string; categories: string[] }[] = [];
  walk(parseTemplate(textOf(catalogs[language], key) ?? ''), (element) => {
    if (isPluralElement(element))
      plurals.push({ argument: element.value, categories: Object.keys(element.options).sort() });
  });
  return plurals;
}
