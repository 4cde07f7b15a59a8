import { expect } from 'chai';
import {
  TranslationError,
  createTranslator,
  escapeHtml,
  hasKey,
  keysOf,
  languageOf,
  placeholdersOf,
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
