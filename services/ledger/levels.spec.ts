import { expect } from 'chai';
import { parseAmount } from '../../lib/money';
import { depositLevel } from './levels';

const usdt = (x: string) => parseAmount(x, 18);
const thresholds = ['10', '50', '100', '250', '500', '1000'].map(usdt);

describe('depositLevel', () => {
  it('is 0 below level 1, by as little as one base unit', () => {
    expect(depositLevel(0n, thresholds)).to.equal(0);
    expect(depositLevel(usdt('10') - 1n, thresholds)).to.equal(0);
  });

  it('is the highest level whose threshold the amount reaches, thresholds included', () => {
    expect(depositLevel(usdt('10'), thresholds)).to.equal(1);
    expect(depositLevel(usdt('49.999999999999999999'), thresholds)).to.equal(1);
    expect(depositLevel(usdt('50'), thresholds)).to.equal(2);
    expect(depositLevel(usdt('250'), thresholds)).to.equal(4);
    expect(depositLevel(usdt('999.99'), thresholds)).to.equal(5);
    expect(depositLevel(usdt('1000'), thresholds)).to.equal(6);
    expect(depositLevel(usdt('123456789'), thresholds)).to.equal(6);
  });

  it('has no level at all without thresholds', () => {
    expect(depositLevel(usdt('1000'), [])).to.equal(0);
  });
});
