import { expect } from 'chai';
import { LANGUAGES } from '../../lib/i18n';
import { ArgumentButtons, Buttons, allKeyboards } from './keyboards';

const handled = (data: string) =>
  (Object.values(Buttons) as string[]).includes(data) ||
  Object.values(ArgumentButtons).some((b) => b.pattern.test(data));

describe('keyboards', () => {
  for (const lang of LANGUAGES) {
    it(`keep every callback_data within Telegram's 1-64 bytes (${lang})`, () => {
      const buttons = allKeyboards(lang).flatMap((keyboard) => keyboard.inline_keyboard.flat());
      expect(buttons).to.not.be.empty;
      for (const button of buttons) {
        const data = 'callback_data' in button ? button.callback_data : undefined;
        expect(data, button.text).to.be.a('string');
        expect(Buffer.byteLength(data!, 'utf8')).to.be.within(1, 64);
        expect(button.text.trim()).to.not.equal('');
      }
    });
  }

  it('send only callback data the bot handles', () => {
    for (const lang of LANGUAGES) {
      for (const button of allKeyboards(lang).flatMap((k) => k.inline_keyboard.flat())) {
        const data = (button as { callback_data: string }).callback_data;
        expect(handled(data), data).to.equal(true);
      }
    }
    for (const data of Object.values(Buttons)) expect(Buffer.byteLength(data)).to.be.within(1, 64);
  });

  it('give each argument back from its callback data, and nothing else', () => {
    const { withdrawConfirm, withdrawCancel, approve } = ArgumentButtons;
    expect(withdrawConfirm.pattern.exec(withdrawConfirm.data('AbCdEfGhIjKlMn_-'))?.[1]).to.equal('AbCdEfGhIjKlMn_-');
    expect(approve.pattern.exec(approve.data('42'))?.[1]).to.equal('42');
    expect(withdrawConfirm.pattern.test(withdrawCancel.data('AbCdEfGhIjKlMn_-'))).to.equal(false);
    expect(approve.pattern.test('adm:ok:42x')).to.equal(false);
    expect(withdrawConfirm.pattern.test('wd:ok:short')).to.equal(false);
  });

  it('label buttons in the user’s language', () => {
    const [en] = allKeyboards('en');
    const [ru] = allKeyboards('ru');
    expect(en!.inline_keyboard.flat().map((b) => b.text)).to.not.deep.equal(
      ru!.inline_keyboard.flat().map((b) => b.text),
    );
  });
});
