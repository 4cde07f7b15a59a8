import { expect } from 'chai';
import { checkWalletAddress } from './wallets';

const SYSTEM = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';

describe('checkWalletAddress', () => {
  it('checksums an all-lowercase address', () => {
    expect(checkWalletAddress('0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359', SYSTEM)).to.deep.equal({
      ok: true,
      address: '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    });
  });

  it('refuses with the reason', () => {
    const refusal = (input: string) => {
      const result = checkWalletAddress(input, SYSTEM);
      return result.ok ? undefined : result.refusal;
    };
    expect(refusal('0x1234')).to.deep.equal({ code: 'INVALID_ADDRESS', reason: 'format' });
    expect(refusal('hello')).to.deep.equal({ code: 'INVALID_ADDRESS', reason: 'format' });
    expect(refusal('0xFB6916095ca1df60bB79Ce92cE3Ea74c37c5d359')).to.deep.equal({
      code: 'INVALID_ADDRESS',
      reason: 'checksum',
    });
    expect(refusal('0x0000000000000000000000000000000000000000')).to.deep.equal({
      code: 'INVALID_ADDRESS',
      reason: 'zero',
    });
    expect(refusal(SYSTEM.toLowerCase())).to.deep.equal({ code: 'ADDRESS_IS_SYSTEM_WALLET' });
  });
});
