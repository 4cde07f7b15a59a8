import { expect } from 'chai';
import { displayAmount, parseAmount } from '../../lib/money';
import { balanceText, depositText, referralsText, startText } from './views';

const terms = {
  chainId: 56,
  token: '0x55d398326f99059fF775485246999027B3197955',
  systemWallet: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  confirmations: 15,
  useFinalized: false,
};
const levels = ['10.5', '50', '100', '250', '500', '1000'].map((amount, i) => ({
  level: i + 1,
  minimum: parseAmount(amount, 18).toString(),
}));
const units = (text: string) => BigInt(text) * 10n ** 18n;

describe('views', () => {
  it('shows amounts with at most 6 fraction digits, rounded down', () => {
    expect(displayAmount(units('12'), 18)).to.equal('12');
    expect(displayAmount(units('12') + 5n * 10n ** 17n, 18)).to.equal('12.5');
    expect(displayAmount(1234567891234567n, 18)).to.equal('0.001234');
    expect(displayAmount('999999999999999999', 18)).to.equal('0.999999');
    expect(displayAmount(0n, 18)).to.equal('0');
    expect(displayAmount(1234n, 2)).to.equal('12.34');
    expect(displayAmount(5n, 0)).to.equal('5');
  });

  it('lists the six deposit levels, the system wallet, the sender wallet and the confirmations', () => {
    const text = depositText('en', terms, levels, 18, '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359');
    expect(text).to.contain('Level 1: from 10.5 USDT');
    expect(text).to.contain('Level 6: from 1000 USDT');
    expect(text).to.contain(terms.systemWallet);
    expect(text).to.contain('0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359');
    expect(text).to.contain('15 block confirmations');
    expect(depositText('ru', { ...terms, useFinalized: true }, levels, 18, '0x1')).to.contain('finalized');
  });

  it('formats balances', () => {
    expect(balanceText('en', { available: units('3').toString(), held: '0' }, 18)).to.match(
      /Available: <b>3 USDT<\/b>[\s\S]*withdrawals: 0 USDT/,
    );
  });

  it('shows referral counts and earnings per level, or says earnings are unavailable', () => {
    const counts = [
      { level: 1, count: 2 },
      { level: 2, count: 0 },
      { level: 3, count: 1 },
    ];
    const text = referralsText(
      'en',
      'https://t.me/bot?start=abc',
      counts,
      [{ level: 1, amount: units('1').toString() }],
      18,
    );
    expect(text).to.contain('Level 1: 2 people, earned 1 USDT');
    expect(text).to.contain('Level 3: 1 person, earned 0 USDT');
    expect(referralsText('en', 'l', counts, undefined, 18)).to.contain('temporarily unavailable');
  });

  it('explains what happened to a referral link', () => {
    expect(startText('en', 'Ann', { created: true, referral: 'linked' }, true)).to.contain('invitation link');
    expect(startText('en', 'Ann', { created: true, referral: 'none' }, false)).to.not.contain('invitation');
    expect(startText('en', 'Ann', { created: false, referral: 'none' }, true)).to.contain('already registered');
    expect(startText('en', 'Ann', { created: false, referral: 'self' }, true)).to.contain('your own');
    expect(startText('en', '<Ann>', { created: true, referral: 'unknown' }, true))
      .to.contain('&lt;Ann&gt;')
      .and.contain('not valid');
  });
});
