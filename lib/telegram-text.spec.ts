// splitHtml against the Bot API emulator's HTML parser (Telegram's rules: tags, entities, trimming): every part
// parses, fits and shows something, and the parts together show exactly the original text with exactly its
// formatting, character by character. Property tests over random nested markup, plus the cases that broke before.
import { expect } from 'chai';
import fc from 'fast-check';
import { formatText } from '../test/support/telegram-emulator/formatting';
import { splitHtml } from './telegram-text';

/** What a reader sees of a Telegram-HTML text; throws Telegram's "can't parse entities" for bad markup. */
const parse = (html: string) => formatText(html, 'HTML');

/** Each visible non-space character with the formatting that covers it (type and link). */
function styledChars(html: string): string[] {
  const { text, entities } = parse(html);
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (/\s/.test(text[i]!)) continue;
    const styles = entities
      .filter((e) => e.offset <= i && i < e.offset + e.length)
      .map((e) => `${e.type}${e.url ? `=${e.url}` : ''}`)
      .sort()
      .join(',');
    out.push(`${text[i]}|${styles}`);
  }
  return out;
}

/** Telegram's limit counts UTF-16 units of the parsed text. */
const visibleLength = (html: string) => parse(html).text.length;
const EMPTY_ELEMENT = /<([a-z][a-z0-9-]*)(?:\s[^>]*)?><\/\1>/;

function checkSplit(html: string, limit: number): string[] {
  const parts = splitHtml(html, limit);
  for (const part of parts) {
    expect(() => parse(part), `part renders: ${part}`).not.to.throw();
    expect(visibleLength(part), `part fits: ${part}`).to.be.at.most(limit);
    expect(parse(part).text.trim(), 'part shows something').not.to.equal('');
    expect(EMPTY_ELEMENT.test(part), `no empty element: ${part}`).to.equal(false);
  }
  expect(parts.flatMap(styledChars), 'the same characters with the same formatting').to.deep.equal(styledChars(html));
  return parts;
}

// ---- random Telegram HTML ----------------------------------------------------------------------------------

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const word = fc
  .array(
    fc.constantFrom(
      'a',
      'b',
      'z',
      'Я',
      'ж',
      '😀',
      '👍🏽',
      '&',
      '<',
      '>',
      '"',
      '1',
      '.',
      'é',
      '&#x1F600;',
      '&#233;',
      '&quot;',
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((chars) => chars.map((c) => (c.startsWith('&') && c.length > 1 ? c : escape(c))).join(''));
const gap = fc.constantFrom(' ', ' ', ' ', '\n', '\n\n', '  ');
const text = fc
  .array(fc.tuple(word, gap), { minLength: 1, maxLength: 8 })
  .map((pairs) => pairs.map(([w, g]) => w + g).join('') + 'x');

const TAGS = [
  ['<b>', '</b>'],
  ['<i>', '</i>'],
  ['<u>', '</u>'],
  ['<s>', '</s>'],
  ['<tg-spoiler>', '</tg-spoiler>'],
  ['<code>', '</code>'],
  ['<a href="https://example.com/?a=1&amp;b=2">', '</a>'],
  ['<blockquote>', '</blockquote>'],
] as const;

const { html } = fc.letrec<{ html: string; node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc
      .tuple(fc.constantFrom(...TAGS), fc.array(tie('node'), { minLength: 1, maxLength: 3 }))
      .map(([[open, close], children]) => `${open}${children.join('')}${close}`),
  ),
  html: fc.array(tie('node'), { minLength: 1, maxLength: 6 }).map((nodes) => nodes.join(' ')),
}));

describe('splitHtml', () => {
  it('keeps a text that fits as it is', () => {
    expect(splitHtml('<b>short</b> text', 4096)).to.deep.equal(['<b>short</b> text']);
  });

  it('random markup at small limits: every part renders and fits, together they show the original exactly', () => {
    fc.assert(
      fc.property(html, fc.integer({ min: 8, max: 120 }), (source, limit) => {
        checkSplit(source, limit);
      }),
      { numRuns: 600 },
    );
  });

  it('counts entities as what they show, and astral characters as two units', () => {
    const parts = checkSplit(`${'&amp;'.repeat(10)} ${'😀'.repeat(5)}`, 10);
    expect(parts).to.deep.equal(['&amp;'.repeat(10), '😀'.repeat(5)]);
    expect(checkSplit('&#x1F600;'.repeat(6), 4)).to.deep.equal([
      '&#x1F600;&#x1F600;',
      '&#x1F600;&#x1F600;',
      '&#x1F600;&#x1F600;',
    ]);
  });

  it('never splits a surrogate pair, an entity or a tag in a run without spaces', () => {
    const source = `<b>${'😀'.repeat(7)}&lt;&gt;</b>${'x'.repeat(5)}`;
    const parts = checkSplit(source, 5);
    for (const part of parts) expect(part).not.to.match(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('leaves no empty element at a cut: an opening tag before a hard cut moves to the next part', () => {
    const parts = checkSplit(`${'a'.repeat(10)}<b>${'b'.repeat(10)}</b>`, 10);
    expect(parts).to.deep.equal(['a'.repeat(10), `<b>${'b'.repeat(10)}</b>`]);
  });

  it('leaves no empty element at a cut: a closing tag right after the cut ends its element in that part', () => {
    const parts = checkSplit(`<b>${'a'.repeat(9)} </b>${'c'.repeat(8)}`, 10);
    expect(parts).to.deep.equal([`<b>${'a'.repeat(9)} </b>`, 'c'.repeat(8)]);
  });

  it('prefers a paragraph break, then a line break, that leaves the part half full, then a space', () => {
    const para = 'p'.repeat(30);
    const tail = `${para} ${'q'.repeat(20)}`;
    expect(splitHtml(`${para}\n\n${tail}`, 60)).to.deep.equal([`${para}\n\n`, tail]);
    expect(splitHtml(`${para}\n${tail}`, 60)).to.deep.equal([`${para}\n`, tail]);
    // A paragraph break too early is passed over for the last space.
    expect(splitHtml(`p\n\n${para} ${para} ${para}`, 70)).to.deep.equal([`p\n\n${para} ${para} `, para]);
  });

  it('closes and reopens nested tags (with their attributes) across a cut', () => {
    const source = `<a href="https://x.io/"><b>${'word '.repeat(30)}</b></a>`;
    const parts = checkSplit(source, 50);
    expect(parts.length).to.be.greaterThan(2);
    for (const part of parts) expect(part).to.match(/^<a href="https:\/\/x\.io\/"><b>.*<\/b><\/a>$/s);
  });

  it('splits a 10,000-character text with markup into parts of at most 4,096 that show it all', () => {
    const paragraph = (i: number) =>
      `<b>Section ${i}</b>\nSome <i>italic</i> &amp; <code>code</code> with a <a href="https://example.com/${i}">link</a>. ` +
      'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(3);
    let source = '';
    for (let i = 0; visibleLength(source) < 10_000; i++) source += `${paragraph(i)}\n\n`;
    const parts = checkSplit(source.trim(), 4096);
    expect(parts).to.have.length(3);
    for (const part of parts.slice(0, -1)) expect(visibleLength(part)).to.be.greaterThan(2048);
  });

  it('drops nothing but whitespace at the cuts of a text that is mostly whitespace', () => {
    checkSplit(`a${' '.repeat(50)}\n\n\n${' '.repeat(30)}b`, 20);
  });
});
