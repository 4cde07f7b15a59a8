import { expect } from 'chai';
import type { Message } from 'telegraf/types';
import { albumOf, contentOf, parseAudience, parseButtons } from './broadcast-compose';

const chat = { id: 1, type: 'private' as const, first_name: 'A' };
const base = { message_id: 1, date: 0, chat };
const file = (id: string) => ({ file_id: id, file_unique_id: `u-${id}` });

describe('broadcast compose', () => {
  it('takes a text with its formatting as HTML', () => {
    const message = { ...base, text: 'Big <news>', entities: [{ type: 'bold', offset: 0, length: 3 }] } as Message;
    expect(contentOf(message)).to.deep.equal({ ok: true, value: { kind: 'text', text: '<b>Big</b> &lt;news&gt;' } });
  });

  it('takes a photo by its largest size and its caption', () => {
    const message = {
      ...base,
      photo: [
        { ...file('small'), width: 90, height: 90 },
        { ...file('large'), width: 1280, height: 720 },
      ],
      caption: 'Look',
      caption_entities: [{ type: 'italic', offset: 0, length: 4 }],
    } as Message;
    expect(contentOf(message)).to.deep.equal({
      ok: true,
      value: { kind: 'photo', media: { fileId: 'large' }, caption: '<i>Look</i>' },
    });
  });

  it('takes every other media kind by file_id', () => {
    for (const kind of ['video', 'audio', 'voice', 'document'] as const) {
      const message = { ...base, [kind]: { ...file(kind), duration: 1 } } as unknown as Message;
      expect(contentOf(message), kind).to.deep.equal({ ok: true, value: { kind, media: { fileId: kind } } });
    }
  });

  it('refuses stickers, GIFs and captions too long with their formatting', () => {
    const sticker = { ...base, sticker: file('s') } as unknown as Message;
    expect(contentOf(sticker)).to.deep.include({ ok: false, key: 'broadcast.compose.unsupported' });
    const gif = { ...base, animation: file('g'), document: file('g') } as unknown as Message;
    expect(contentOf(gif)).to.deep.include({ ok: false, key: 'broadcast.compose.unsupported' });
    // 1,020 characters as typed are within Telegram's 1,024, but not with <b></b> around them.
    const long = {
      ...base,
      document: file('d'),
      caption: 'x'.repeat(1020),
      caption_entities: [{ type: 'bold', offset: 0, length: 1020 }],
    } as Message;
    expect(contentOf(long)).to.deep.include({ ok: false, key: 'broadcast.compose.caption_too_long' });
  });

  it('makes an album of photos and videos, and refuses mixing documents in', () => {
    expect(
      albumOf([
        { kind: 'photo', fileId: 'p', caption: 'one' },
        { kind: 'video', fileId: 'v' },
      ]),
    ).to.deep.equal({
      ok: true,
      value: {
        kind: 'album',
        items: [
          { kind: 'photo', media: { fileId: 'p' }, caption: 'one' },
          { kind: 'video', media: { fileId: 'v' } },
        ],
      },
    });
    expect(albumOf([{ kind: 'photo', fileId: 'p' }])).to.deep.include({ ok: false });
    expect(
      albumOf([
        { kind: 'photo', fileId: 'p' },
        { kind: 'document', fileId: 'd' },
      ]),
    ).to.deep.include({ ok: false, key: 'broadcast.compose.album_mixed' });
  });

  it('reads button lines into rows', () => {
    expect(
      parseButtons('Site - https://example.com | Chat - tg://resolve?domain=x\n\nA - B - http://b.example'),
    ).to.deep.equal({
      ok: true,
      value: [
        [
          { text: 'Site', url: 'https://example.com' },
          { text: 'Chat', url: 'tg://resolve?domain=x' },
        ],
        [{ text: 'A - B', url: 'http://b.example' }],
      ],
    });
  });

  it('says which line of the buttons is wrong', () => {
    expect(parseButtons('Site - https://example.com\nno link here')).to.deep.include({
      ok: false,
      key: 'broadcast.compose.button_format',
    });
    expect(parseButtons('Site - ftp://example.com')).to.deep.include({
      ok: false,
      key: 'broadcast.compose.button_link',
    });
    expect(parseButtons('Site - https://')).to.deep.include({ ok: false, key: 'broadcast.compose.button_link' });
    expect(parseButtons(`${'x'.repeat(65)} - https://example.com`)).to.deep.include({
      ok: false,
      key: 'broadcast.compose.button_text_too_long',
    });
    expect(parseButtons(Array(9).fill('a - https://a.example').join('|'))).to.deep.include({
      ok: false,
      key: 'broadcast.compose.buttons_too_many_in_row',
    });
    expect(parseButtons(Array(11).fill('a - https://a.example').join('\n'))).to.deep.include({
      ok: false,
      key: 'broadcast.compose.buttons_too_many_rows',
    });
    expect(parseButtons('  \n ')).to.deep.include({ ok: false, key: 'broadcast.compose.buttons_empty' });
  });

  it('reads a typed audience: days or a language', () => {
    expect(parseAudience('14')).to.deep.equal({ ok: true, value: { kind: 'active', days: 14 } });
    expect(parseAudience(' RU ')).to.deep.equal({ ok: true, value: { kind: 'language', language: 'ru' } });
    expect(parseAudience('0')).to.deep.include({ ok: false, key: 'broadcast.compose.audience_days' });
    expect(parseAudience('99999')).to.deep.include({ ok: false, key: 'broadcast.compose.audience_days' });
    expect(parseAudience('everyone')).to.deep.include({ ok: false, key: 'broadcast.compose.audience_format' });
  });
});
