import { expect } from 'chai';
import fc from 'fast-check';
import {
  TranslationError,
  createTranslator,
  escapeHtml,
  hasKey,
  keysOf,
  languageOf,
  parseTemplate,
  placeholdersOf,
  pluralCategoriesOf,
  pluralsOf,
  t,
  trustedHtml,
} from './i18n';

describe('i18n', () => {
  it('chooses Russian for ru* language codes and English for everything else', () => {
    expect(languageOf('ru')).to.equal('ru');
    expect(languageOf('ru-RU')).to.equal('ru');
    expect(languageOf('RU')).to.equal('ru');
    expect(languageOf('en')).to.equal('en');
    expect(languageOf('uk')).to.equal('en');
    expect(languageOf('rus')).to.equal('en');
    expect(languageOf(undefined)).to.equal('en');
    expect(languageOf(null)).to.equal('en');
  });

  it('looks a text up in the language and fills in placeholders', () => {
    expect(t('en', 'deposit.credited', { amount: '10.50', level: 2 })).to.equal(
      '✅ Your deposit of 10.50 USDT is credited. Deposit level: 2.',
    );
    expect(t('ru', 'deposit.credited', { amount: '10.50', level: 2 })).to.contain('зачислено');
    expect(t('ru-RU', 'menu.help')).to.equal(t('ru', 'menu.help'));
    expect(t('de', 'menu.help')).to.equal(t('en', 'menu.help'));
  });

  it('HTML-escapes parameters but not trusted markup', () => {
    const text = t('en', 'referral.commission', { amount: '1', level: 1, fromName: '<b>Eve</b> & co' });
    expect(text).to.contain('&lt;b&gt;Eve&lt;/b&gt; &amp; co');
    expect(t('en', 'referrals.text', { link: 'x', lines: trustedHtml('<i>a</i>') })).to.contain('<i>a</i>');
    expect(escapeHtml('a<b>"c"&')).to.equal('a&lt;b&gt;&quot;c&quot;&amp;');
  });

  it('falls back to English for a text the language lacks', () => {
    const translate = createTranslator({ en: { only: 'English {x}' }, ru: {} }, () => true);
    expect(translate('ru', 'only', { x: '1' })).to.equal('English 1');
  });

  it('throws on a missing key or parameter when strict, and shows the key otherwise', () => {
    expect(() => t('en', 'no.such.key')).to.throw(TranslationError, /no.such.key/);
    expect(() => t('en', 'deposit.credited', { amount: '1' })).to.throw(TranslationError, /\{level\}/);
    expect(() => t('en', 'constructor')).to.throw(TranslationError);
    const lenient = createTranslator({ en: { a: 'A {x}' }, ru: {} }, () => false);
    expect(lenient('en', 'missing')).to.equal('missing');
    expect(lenient('en', 'a')).to.equal('A {x}');
  });

  it('has the same keys and placeholders in English and Russian', () => {
    expect([...keysOf('ru')].sort()).to.deep.equal([...keysOf('en')].sort());
    for (const key of keysOf('en')) expect(placeholdersOf('ru', key), key).to.deep.equal(placeholdersOf('en', key));
  });

  it('has a branch for each of its CLDR plural categories in every plural: en one/other, ru one/few/many/other', () => {
    expect(pluralCategoriesOf('en')).to.deep.equal(['one', 'other']);
    expect(pluralCategoriesOf('ru')).to.deep.equal(['few', 'many', 'one', 'other']);
    let plurals = 0;
    for (const lang of ['en', 'ru'] as const) {
      for (const key of keysOf(lang)) {
        for (const plural of pluralsOf(lang, key)) {
          plurals += 1;
          expect(plural.categories, `${lang} ${key} {${plural.argument}}`).to.deep.equal(pluralCategoriesOf(lang));
        }
      }
    }
    expect(plurals).to.be.greaterThan(20);
  });

  it('agrees the words with the number in Russian: 1 человек, 2 человека, 5 человек, 21 человек…', () => {
    const people = (count: number) =>
      /: (\d+ \S+),/.exec(t('ru', 'referrals.line', { level: 1, count, amount: '0' }))![1];
    const confirmations = (count: number) => t('ru', 'deposit.confirmations_blocks', { count });
    const table: [number, string, string][] = [
      [0, '0 человек', 'наберётся 0 подтверждений блока'],
      [1, '1 человек', 'наберётся 1 подтверждение блока'],
      [2, '2 человека', 'наберутся 2 подтверждения блока'],
      [3, '3 человека', 'наберутся 3 подтверждения блока'],
      [4, '4 человека', 'наберутся 4 подтверждения блока'],
      [5, '5 человек', 'наберётся 5 подтверждений блока'],
      [11, '11 человек', 'наберётся 11 подтверждений блока'],
      [12, '12 человек', 'наберётся 12 подтверждений блока'],
      [14, '14 человек', 'наберётся 14 подтверждений блока'],
      [21, '21 человек', 'наберётся 21 подтверждение блока'],
      [22, '22 человека', 'наберутся 22 подтверждения блока'],
      [25, '25 человек', 'наберётся 25 подтверждений блока'],
      [101, '101 человек', 'наберётся 101 подтверждение блока'],
      [111, '111 человек', 'наберётся 111 подтверждений блока'],
    ];
    for (const [count, person, confirmation] of table) {
      expect(people(count), String(count)).to.equal(person);
      expect(confirmations(count), String(count)).to.equal(confirmation);
    }
    const minutes: [number, string][] = [
      [1, '1 минуту'],
      [3, '3 минуты'],
      [5, '5 минут'],
      [11, '11 минут'],
      [21, '21 минуту'],
      [22, '22 минуты'],
    ];
    for (const [count, text] of minutes) expect(t('ru', 'time.minutes', { minutes: count })).to.equal(text);
    expect(t('ru', 'time.hours_minutes', { hours: 21, minutes: 14 })).to.equal('21 час 14 минут');
    expect(t('ru', 'time.hours_minutes', { hours: 2, minutes: 1 })).to.equal('2 часа 1 минуту');
  });

  it('renders every plural text in both languages for 0, 1, 2, 3, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111', () => {
    const numbers = [0, 1, 2, 3, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111];
    for (const lang of ['en', 'ru'] as const) {
      for (const key of keysOf(lang)) {
        const plurals = pluralsOf(lang, key).map((p) => p.argument);
        if (plurals.length === 0) continue;
        for (const n of numbers) {
          const params = Object.fromEntries(
            placeholdersOf(lang, key).map((name) => [name, plurals.includes(name) ? n : 'x']),
          );
          const text = t(lang, key, params);
          expect(text, `${lang} ${key} ${n}`).to.not.match(/[{}]|#(?!\d|x)/);
          if (n !== 1 || lang === 'ru') expect(text, `${lang} ${key} ${n}`).to.match(new RegExp(`(^|\\D)${n}(\\D|$)`));
        }
      }
    }
  });

  it('agrees the words with the number in English: 1 person, 0 and 2 people', () => {
    const line = (count: number | bigint | string) => t('en', 'referrals.line', { level: 2, count, amount: '1' });
    expect(line(1)).to.equal('Level 2: 1 person, earned 1 USDT');
    expect(line(0)).to.equal('Level 2: 0 people, earned 1 USDT');
    expect(line(2n)).to.equal('Level 2: 2 people, earned 1 USDT');
    expect(line('21')).to.equal('Level 2: 21 people, earned 1 USDT');
    expect(t('en', 'time.hours_minutes', { hours: 1, minutes: 1 })).to.equal('1 hour 1 minute');
    expect(t('en', 'deposit.confirmations_blocks', { count: 1 })).to.equal('1 block confirmation');
  });

  it('picks the Russian form CLDR gives for any whole number (by the last two digits)', () => {
    const expected = (n: number) => {
      const [last, lastTwo] = [n % 10, n % 100];
      if (last === 1 && lastTwo !== 11) return 'человек';
      if (last >= 2 && last <= 4 && (lastTwo < 12 || lastTwo > 14)) return 'человека';
      return 'человек';
    };
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000 }), (n) => {
        const text = t('ru', 'referrals.line', { level: 1, count: n, amount: '0' });
        return text === `Уровень 1: ${n} ${expected(n)}, заработано 0 USDT`;
      }),
    );
  });

  it('refuses a broken plural with the reason, and a plural without a number when strict', () => {
    expect(() => parseTemplate('{n, plural, one {# a}}')).to.throw(TranslationError, /MISSING_OTHER_CLAUSE/);
    expect(() => parseTemplate('{n, plural, one {# a} lots {# b} other {c}}')).to.throw(TranslationError, /lots/);
    expect(() => parseTemplate('{n, plural, one {a} one {b} other {c}}')).to.throw(TranslationError, /DUPLICATE/);
    expect(() => parseTemplate('{n, plural, other {x}')).to.throw(TranslationError);
    expect(() => parseTemplate('{not a placeholder}')).to.throw(TranslationError, /MALFORMED_ARGUMENT/);
    expect(parseTemplate("I don't <b>{x}</b>")).to.have.length(3);
    expect(() => t('en', 'referrals.line', { level: 1, count: 'many', amount: '0' })).to.throw(
      TranslationError,
      /needs a number for \{count\}/,
    );
    const lenient = createTranslator({ en: { a: '{n, plural, one {# x} other {# xs}}' }, ru: {} }, () => false);
    expect(lenient('en', 'a', { n: 'many' })).to.equal('{n, plural, one {# x} other {# xs}}');
    expect(lenient('en', 'a')).to.equal('{n, plural, one {# x} other {# xs}}');
  });

  it('fills in placeholders inside a plural branch, HTML-escaped, and # outside a plural is a plain #', () => {
    const translate = createTranslator(
      { en: { x: '#{id}: {n, plural, one {# item for {who}} other {# items for {who}}}' }, ru: {} },
      () => true,
    );
    expect(translate('en', 'x', { id: 7, n: 1, who: '<Ann>' })).to.equal('#7: 1 item for &lt;Ann&gt;');
    expect(translate('en', 'x', { id: 7, n: 3, who: 'Bo' })).to.equal('#7: 3 items for Bo');
    expect(translate('ru', 'x', { id: 7, n: 3, who: 'Bo' })).to.equal('#7: 3 items for Bo');
  });

  it('has the texts the notifier sends', () => {
    const expected: Record<string, string[]> = {
      'deposit.detected': ['amount', 'txHash'],
      'deposit.credited': ['amount', 'level'],
      'deposit.credited_no_level': ['amount', 'minimum'],
      'referral.commission': ['amount', 'fromName', 'level'],
    };
    for (const [key, params] of Object.entries(expected)) {
      for (const lang of ['en', 'ru'] as const) {
        expect(hasKey(key, lang), `${lang} ${key}`).to.equal(true);
        expect(placeholdersOf(lang, key)).to.deep.equal(params);
      }
    }
  });
});
