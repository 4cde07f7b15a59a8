import { expect } from 'chai';
import { AmountError, applyRate, formatAmount, fromUnits, parseAmount, parseRate, RATE_SCALE, toUnits } from './money';

const USDT = 18;
const unit = 10n ** 18n;

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function digits(next: () => number, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += Math.floor(next() * 10).toString();
  return text;
}

describe('money', () => {
  describe('parseAmount', () => {
    it('parses whole amounts into base units', () => {
      expect(parseAmount('0', USDT)).to.equal(0n);
      expect(parseAmount('1', USDT)).to.equal(unit);
      expect(parseAmount('250', USDT)).to.equal(250n * unit);
      expect(parseAmount('10', 6)).to.equal(10_000_000n);
      expect(parseAmount('7', 0)).to.equal(7n);
    });

    it('parses fractional amounts exactly', () => {
      expect(parseAmount('12.5', USDT)).to.equal(12n * unit + unit / 2n);
      expect(parseAmount('0.05', USDT)).to.equal(5n * 10n ** 16n);
      expect(parseAmount('0.000000000000000001', USDT)).to.equal(1n);
      expect(parseAmount('1.123456', 6)).to.equal(1_123_456n);
      expect(parseAmount('0.1', 1)).to.equal(1n);
    });

    it('refuses commas, which could be a decimal or a thousands separator', () => {
      expect(() => parseAmount('12,5', USDT)).to.throw(AmountError, /no commas/);
      expect(() => parseAmount('1,000', USDT)).to.throw(AmountError, /no commas/);
    });

    it('ignores surrounding whitespace, leading zeros and trailing fractional zeros', () => {
      expect(parseAmount('  12.5\n', USDT)).to.equal(parseAmount('12.5', USDT));
      expect(parseAmount('007', 2)).to.equal(700n);
      // Trailing zeros carry no value, so they do not count against the token's decimals.
      expect(parseAmount('1.50000000', 6)).to.equal(1_500_000n);
      expect(parseAmount('5.000', 0)).to.equal(5n);
    });

    it('refuses more decimal places than the token has, saying so', () => {
      expect(() => parseAmount('1.0000001', 6)).to.throw(AmountError, '"1.0000001" has more than 6 decimal places');
      expect(() => parseAmount('0.0000000000000000001', USDT)).to.throw(AmountError, 'has more than 18 decimal places');
      expect(() => parseAmount('1.5', 0)).to.throw(AmountError, 'has more than 0 decimal places');
    });

    for (const input of [
      '-1',
      '-0.5',
      'abc',
      '',
      '   ',
      '1e5',
      '1E5',
      '0x10',
      '+1',
      '.5',
      '5.',
      '1.2.3',
      '1,000.5',
      '1 000',
      '1_000',
      'Infinity',
      'NaN',
      '１２',
    ]) {
      it(`refuses ${JSON.stringify(input)} as not an amount`, () => {
        expect(() => parseAmount(input, USDT)).to.throw(AmountError, `"${input}" is not an amount`);
      });
    }

    it('keeps values far beyond 2^64 exact', () => {
      expect(parseAmount('18446744073709551616', 0)).to.equal(2n ** 64n);
      expect(parseAmount('18446744073709551616', USDT)).to.equal(2n ** 64n * unit);
      expect(parseAmount('123456789012345678901234567890.123456789012345678', USDT)).to.equal(
        123456789012345678901234567890123456789012345678n,
      );
      // The largest amount a uint256 transfer can carry.
      const max = 2n ** 256n - 1n;
      expect(parseAmount(formatAmount(max, USDT), USDT)).to.equal(max);
    });
  });

  describe('formatAmount', () => {
    it('formats base units as a trimmed decimal string', () => {
      expect(formatAmount(0n, USDT)).to.equal('0');
      expect(formatAmount(unit, USDT)).to.equal('1');
      expect(formatAmount(12n * unit + unit / 2n, USDT)).to.equal('12.5');
      expect(formatAmount(1n, USDT)).to.equal('0.000000000000000001');
      expect(formatAmount(1_500_000n, 6)).to.equal('1.5');
      expect(formatAmount(42n, 0)).to.equal('42');
      expect(formatAmount(-(12n * unit + unit / 2n), USDT)).to.equal('-12.5');
    });

    it('truncates (never rounds up) the fraction to maxFraction for display', () => {
      expect(formatAmount(1_999_999n * 10n ** 12n, USDT, 2)).to.equal('1.99');
      expect(formatAmount(12_345_678n * 10n ** 10n, USDT, 4)).to.equal('0.1234');
      expect(formatAmount(unit + 5n * 10n ** 15n, USDT, 2)).to.equal('1');
      expect(formatAmount(999n * 10n ** 15n, USDT, 0)).to.equal('0');
      expect(formatAmount(1n, USDT, 6)).to.equal('0');
      expect(formatAmount(1_230_000n, 6, 6)).to.equal('1.23');
    });

    it('round-trips format(parse(x)) for many canonical amounts', () => {
      const next = random(0x5eed);
      for (const decimals of [0, 1, 6, 18, 30]) {
        for (let i = 0; i < 300; i++) {
          const whole = digits(next, 1 + Math.floor(next() * 40)).replace(/^0+(?=\d)/, '') || '0';
          const fractionLength = Math.floor(next() * (decimals + 1));
          const fraction = fractionLength ? digits(next, fractionLength).replace(/0+$/, '') : '';
          const text = fraction ? `${whole}.${fraction}` : whole;
          expect(formatAmount(parseAmount(text, decimals), decimals), `${text} at ${decimals} decimals`).to.equal(text);
        }
      }
    });

    it('round-trips parse(format(units)) for many base-unit values', () => {
      const next = random(0xbeef);
      for (const decimals of [0, 6, 18]) {
        for (let i = 0; i < 300; i++) {
          const units = BigInt(digits(next, 1 + Math.floor(next() * 80)));
          expect(parseAmount(formatAmount(units, decimals), decimals), `${units} at ${decimals} decimals`).to.equal(
            units,
          );
        }
      }
    });
  });

  describe('parseRate and applyRate', () => {
    it('parses rates as parts per 10^18', () => {
      expect(RATE_SCALE).to.equal(10n ** 18n);
      expect(parseRate('0.05')).to.equal(5n * 10n ** 16n);
      expect(parseRate('0')).to.equal(0n);
      expect(parseRate('1')).to.equal(RATE_SCALE);
      expect(parseRate('0.000000000000000001')).to.equal(1n);
    });

    it('refuses rates above 1', () => {
      expect(() => parseRate('1.000000000000000001')).to.throw(AmountError, 'rate "1.000000000000000001" is above 1');
      expect(() => parseRate('1.5')).to.throw(AmountError, 'is above 1');
      expect(() => parseRate('5')).to.throw(AmountError, 'is above 1');
    });

    it('refuses malformed rates and more than 18 decimals', () => {
      expect(() => parseRate('5%')).to.throw(AmountError, 'is not an amount');
      expect(() => parseRate('-0.05')).to.throw(AmountError, 'is not an amount');
      expect(() => parseRate('0.05000000000000000001')).to.throw(AmountError, 'more than 18 decimal places');
    });

    it('applies a rate rounding down to whole base units', () => {
      const fivePercent = parseRate('0.05');
      expect(applyRate(1n, fivePercent)).to.equal(0n);
      expect(applyRate(19n, fivePercent)).to.equal(0n);
      expect(applyRate(20n, fivePercent)).to.equal(1n);
      expect(applyRate(333n, fivePercent)).to.equal(16n);
      expect(applyRate(100n * unit, fivePercent)).to.equal(5n * unit);
      expect(applyRate(parseAmount('123.456789', 6), parseRate('0.03'))).to.equal(3_703_703n);
      expect(applyRate(777n, RATE_SCALE)).to.equal(777n);
      expect(applyRate(777n, 0n)).to.equal(0n);
    });

    it('stays exact for amounts beyond 2^64', () => {
      const amount = 2n ** 200n + 12345n;
      expect(applyRate(amount, parseRate('0.5'))).to.equal(amount / 2n);
      expect(applyRate(amount, parseRate('0.04'))).to.equal((amount * 4n) / 100n);
    });
  });

  describe('toUnits and fromUnits', () => {
    it('round-trips bigints through strings without loss', () => {
      for (const value of [0n, 1n, -1n, 2n ** 64n, 2n ** 256n - 1n, -(10n ** 40n)]) {
        expect(toUnits(value)).to.equal(value.toString());
        expect(fromUnits(toUnits(value))).to.equal(value);
      }
    });

    it('passes bigints through unchanged', () => {
      expect(fromUnits(123n)).to.equal(123n);
    });

    for (const input of ['', ' 5', '5 ', '1.0', '1e3', '0x10', 'abc', '+1', '--1']) {
      it(`refuses ${JSON.stringify(input)} as base units`, () => {
        expect(() => fromUnits(input)).to.throw(AmountError, 'is not a whole number of base units');
      });
    }
  });
});
