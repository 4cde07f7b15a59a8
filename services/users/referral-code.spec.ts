import { expect } from 'chai';
import { looksLikeReferralCode } from '../../lib/contracts';
import { REFERRAL_CODE_ALPHABET, REFERRAL_CODE_LENGTH, generateReferralCode } from './referral-code';

describe('referral codes', () => {
  it('are 8 url-safe characters without look-alikes', () => {
    for (let i = 0; i < 500; i++) {
      const code = generateReferralCode();
      expect(code).to.have.length(REFERRAL_CODE_LENGTH);
      expect(code).to.match(/^[A-Za-z0-9]+$/);
      expect(code).to.not.match(/[0O1lI]/);
      expect(looksLikeReferralCode(code)).to.equal(true);
    }
  });

  it('use the whole alphabet from the random source', () => {
    let i = 0;
    const code = generateReferralCode(() => i++ % REFERRAL_CODE_ALPHABET.length);
    expect(code).to.equal(REFERRAL_CODE_ALPHABET.slice(0, REFERRAL_CODE_LENGTH));
  });

  it('rarely repeat', () => {
    const codes = new Set(Array.from({ length: 10_000 }, () => generateReferralCode()));
    expect(codes.size).to.equal(10_000);
  });

  it('accept only what a /start payload can carry', () => {
    expect(looksLikeReferralCode('abc_DEF-123')).to.equal(true);
    expect(looksLikeReferralCode('')).to.equal(false);
    expect(looksLikeReferralCode('a b')).to.equal(false);
    expect(looksLikeReferralCode("x' OR 1=1")).to.equal(false);
    expect(looksLikeReferralCode('a'.repeat(65))).to.equal(false);
  });
});
