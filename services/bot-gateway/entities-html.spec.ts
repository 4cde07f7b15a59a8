import { expect } from 'chai';
import type { MessageEntity } from 'telegraf/types';
import { entitiesToHtml } from './entities-html';

describe('entities to HTML', () => {
  it('escapes the text and keeps plain text plain', () => {
    expect(entitiesToHtml('1 < 2 & "3" > 0')).to.equal('1 &lt; 2 &amp; &quot;3&quot; &gt; 0');
  });

  it('writes each formatting entity as its tag', () => {
    const text = 'bold italic under strike spoiler code link';
    const at = (word: string) => ({ offset: text.indexOf(word), length: word.length });
    const entities: MessageEntity[] = [
      { type: 'bold', ...at('bold') },
      { type: 'italic', ...at('italic') },
      { type: 'underline', ...at('under') },
      { type: 'strikethrough', ...at('strike') },
      { type: 'spoiler', ...at('spoiler') },
      { type: 'code', ...at('code') },
      { type: 'text_link', ...at('link'), url: 'https://example.com/?a=1&b="2"' },
    ];
    expect(entitiesToHtml(text, entities)).to.equal(
      '<b>bold</b> <i>italic</i> <u>under</u> <s>strike</s> <tg-spoiler>spoiler</tg-spoiler> <code>code</code> ' +
        '<a href="https://example.com/?a=1&amp;b=&quot;2&quot;">link</a>',
    );
  });

  it('nests entities and writes pre with its language', () => {
    const text = 'very bold\nx < 1';
    const entities: MessageEntity[] = [
      { type: 'bold', offset: 0, length: 9 },
      { type: 'italic', offset: 0, length: 4 },
      { type: 'pre', offset: 10, length: 5, language: 'ts' },
    ];
    expect(entitiesToHtml(text, entities)).to.equal(
      '<b><i>very</i> bold</b>\n<pre><code class="language-ts">x &lt; 1</code></pre>',
    );
  });

  it('keeps the HTML well formed when entities overlap', () => {
    const entities: MessageEntity[] = [
      { type: 'bold', offset: 0, length: 4 },
      { type: 'italic', offset: 2, length: 4 },
    ];
    expect(entitiesToHtml('abcdef', entities)).to.equal('<b>ab<i>cd</i></b><i>ef</i>');
  });

  it('counts offsets in UTF-16 code units (emoji) and leaves re-detected entities as text', () => {
    const text = '🚀 launch @sigma #news';
    const entities: MessageEntity[] = [
      { type: 'bold', offset: 3, length: 6 },
      { type: 'mention', offset: 10, length: 6 },
      { type: 'hashtag', offset: 17, length: 5 },
    ];
    expect(entitiesToHtml(text, entities)).to.equal('🚀 <b>launch</b> @sigma #news');
  });

  it('ignores entities outside the text', () => {
    expect(entitiesToHtml('abc', [{ type: 'bold', offset: 2, length: 5 }])).to.equal('abc');
  });
});
