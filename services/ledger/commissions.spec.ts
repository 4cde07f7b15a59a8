import { expect } from 'chai';
import { parseAmount, parseRate } from '../../lib/money';
import { splitCommissions } from './commissions';

const usdt = (x: string) => parseAmount(x, 18);
const rates = ['0.05', '0.04', '0.03'].map(parseRate);
const uplines = [
  { level: 1, userId: '30' },
  { level: 2, userId: '20' },
  { level: 3, userId: '10' },
];

describe('splitCommissions', () => {
  it('pays each upline its level rate of the deposit', () => {
    expect(splitCommissions(usdt('100'), uplines, rates)).to.deep.equal([
      { level: 1, userId: '30', amount: usdt('5') },
      { level: 2, userId: '20', amount: usdt('4') },
      { level: 3, userId: '10', amount: usdt('3') },
    ]);
  });

  it('rounds each share down to whole base units and never pays more than the rates allow', () => {
    const commissions = splitCommissions(333n, uplines, rates);
    expect(commissions.map((c) => c.amount)).to.deep.equal([16n, 13n, 9n]); // 16.65, 13.32, 9.99
    const odd = usdt('0.000000000000000999') + usdt('17.3');
    const total = splitCommissions(odd, uplines, rates).reduce((sum, c) => sum + c.amount, 0n);
    expect(total * 100n <= odd * 12n).to.equal(true);
  });

  it('skips shares that round down to nothing', () => {
    expect(splitCommissions(20n, uplines, rates)).to.deep.equal([{ level: 1, userId: '30', amount: 1n }]); // 1, 0.8, 0.6
    expect(splitCommissions(19n, uplines, rates)).to.deep.equal([]);
    expect(splitCommissions(1n, uplines, rates)).to.deep.equal([]);
  });

  it('pays only the levels that have a rate and an upline', () => {
    expect(splitCommissions(usdt('10'), uplines.slice(0, 1), rates)).to.deep.equal([
      { level: 1, userId: '30', amount: usdt('0.5') },
    ]);
    expect(splitCommissions(usdt('10'), uplines, rates.slice(0, 2)).map((c) => c.level)).to.deep.equal([1, 2]);
    expect(splitCommissions(usdt('10'), uplines, [])).to.deep.equal([]); // REFERRAL_ENABLED=false
    expect(
      splitCommissions(usdt('10'), uplines, [parseRate('0.05'), 0n, parseRate('0.03')]).map((c) => c.level),
    ).to.deep.equal([1, 3]);
  });
});
