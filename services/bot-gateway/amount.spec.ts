import { expect } from 'chai';
import { parseWithdrawalAmount } from './amount';

const units = (whole: bigint, decimals = 18) => whole * 10n ** BigInt(decimals);

describe('parseWithdrawalAmount', () => {
  it('takes whole and decimal amounts, with or without "USDT"', () => {
    expect(parseWithdrawalAmount('25', 18)).to.deep.equal({ ok: true, units: units(25n) });
    expect(parseWithdrawalAmount(' 12.5 ', 18)).to.deep.equal({ ok: true, units: units(125n) / 10n });
    expect(parseWithdrawalAmount('10 USDT', 18)).to.deep.equal({ ok: true, units: units(10n) });
    expect(parseWithdrawalAmount('10usdt', 18)).to.deep.equal({ ok: true, units: units(10n) });
    expect(parseWithdrawalAmount('0.000000000000000001', 18)).to.deep.equal({ ok: true, units: 1n });
    expect(parseWithdrawalAmount('12.50', 2)).to.deep.equal({ ok: true, units: 1250n });
    // Trailing zeros are not decimals that count.
    expect(parseWithdrawalAmount('12.5000', 2)).to.deep.equal({ ok: true, units: 1250n });
  });

  it('refuses more decimals than the token has', () => {
    expect(parseWithdrawalAmount('0.0000000000000000001', 18)).to.deep.equal({ ok: false, problem: 'decimals' });
    expect(parseWithdrawalAmount('1.001', 2)).to.deep.equal({ ok: false, problem: 'decimals' });
    expect(parseWithdrawalAmount('1.5', 0)).to.deep.equal({ ok: false, problem: 'decimals' });
  });

  it('refuses zero, and never guesses what a comma means', () => {
    expect(parseWithdrawalAmount('0', 18)).to.deep.equal({ ok: false, problem: 'zero' });
    expect(parseWithdrawalAmount('0.000', 18)).to.deep.equal({ ok: false, problem: 'zero' });
    expect(parseWithdrawalAmount('1,5', 18)).to.deep.equal({ ok: false, problem: 'comma' });
    expect(parseWithdrawalAmount('1,000.50', 18)).to.deep.equal({ ok: false, problem: 'comma' });
  });

  it('refuses anything that is not a positive decimal number', () => {
    for (const text of ['', 'abc', '-5', '+5', '1e3', '.5', '5.', '1.2.3', '0x10', '½', '١٢', '5 BNB', '9'.repeat(41)])
      expect(parseWithdrawalAmount(text, 18), JSON.stringify(text)).to.deep.equal({ ok: false, problem: 'format' });
  });
});
