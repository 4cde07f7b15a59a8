// User-facing texts in English and Russian, from locales/<lang>.json (flat "area.name" keys).
// Every text is Telegram HTML (send with parse_mode "HTML"): parameter values are escaped here, so a user's
// name or any other outside text can never inject markup. Wrap already-safe markup with `trustedHtml()`.
import { readFileSync } from 'node:fs';

export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

export type Catalog = Readonly<Record<string, string>>;

function loadCatalog(language: Language): Catalog {
  const url = new URL(`../locales/${language}.json`, import.meta.url);
  const parsed = JSON.parse(readFileSync(url, 'utf8')) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`locales/${language}.json must be a JSON object`);
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Error(`locales/${language}.json: "${key}" must be a string`);
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

export class TranslationError extends Error {}

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

export type Translate = (language: Language | string | null | undefined, key: string, params?: Params) => string;

/** A t() over the given catalogs (tests build one with a catalog that lacks a text). */
export function createTranslator(from: Record<Language, Catalog>, isStrict: () => boolean = strict): Translate {
  return (language, key, params = {}) => {
    const lang = (LANGUAGES as readonly string[]).includes(language ?? '')
      ? (language as Language)
      : languageOf(language);
    const template = textOf(from[lang], key) ?? textOf(from[DEFAULT_LANGUAGE], key);
    if (template === undefined) {
      if (isStrict()) throw new TranslationError(`no text for "${key}" in locales/${DEFAULT_LANGUAGE}.json`);
      return key;
    }
    return template.replace(/\{(\w+)\}/g, (placeholder, name: string) => {
      const value = params[name];
      if (value === undefined) {
        if (isStrict()) throw new TranslationError(`text "${key}" needs the parameter {${name}}`);
        return placeholder;
      }
      return value instanceof TrustedHtml ? value.html : escapeHtml(String(value));
    });
  };
}

/** The text for `key` in `language` (falling back to English) with {placeholders} filled in and HTML-escaped. */
export const t: Translate = createTranslator(catalogs);

/** The {placeholders} a template uses (tests check both languages agree). */
export function placeholdersOf(language: Language, key: string): string[] {
  const template = textOf(catalogs[language], key) ?? '';
  return [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}
