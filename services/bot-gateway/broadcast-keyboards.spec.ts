import { expect } from 'chai';
import { LANGUAGES } from '../../lib/i18n';
import { allBroadcastKeyboards, BroadcastButtons } from './broadcast-keyboards';
import { ArgumentButtons, Buttons } from './keyboards';

const patterns = Object.values(BroadcastButtons).map((b) => b.pattern);

describe('broadcast keyboards', () => {
  it("keep callback_data within Telegram's 64 bytes, each handled by one pattern and by no other button", () => {
    for (const lang of LANGUAGES) {
      for (const button of allBroadcastKeyboards(lang).flatMap((k) => k.inline_keyboard.flat())) {
        const data = (button as { callback_data: string }).callback_data;
        expect(Buffer.byteLength(data, 'utf8'), data).to.be.within(1, 64);
        expect(button.text.trim()).to.not.equal('');
        expect(
          patterns.filter((p) => p.test(data)),
          data,
        ).to.have.length(1);
        expect((Object.values(Buttons) as string[]).includes(data)).to.equal(false);
        expect(
          Object.values(ArgumentButtons).some((b) => b.pattern.test(data)),
          data,
        ).to.equal(false);
      }
    }
  });

  it("take the broadcaster's progress buttons and nothing forged", () => {
    const { control } = BroadcastButtons;
    expect(control.pattern.exec(control.data('pause', '42'))?.slice(1)).to.deep.equal(['pause', '42']);
    for (const forged of [
      'bc:pause:abc',
      'bc:delete:42',
      'bc:pause:42:1',
      'bc:pause:',
      'bc:resume:12345678901234567890',
    ])
      expect(control.pattern.test(forged), forged).to.equal(false);
  });
});
