import { expect } from 'chai';
import { AddressError, normaliseAddress } from './address';

// EIP-55's own test vectors, and BSC-USD (the USDT contract on BNB Smart Chain).
const CHECKSUMMED = [
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
  '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
  '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
  '0x52908400098527886E0F7030069857D2E4169EE7',
  '0xde709f2102306220921060314715629080e2fb77',
  '0x55d398326f99059fF775485246999027B3197955',
];

function reasonOf(input: string): AddressError['reason'] | 'accepted' {
  try {
    normaliseAddress(input);
    return 'accepted';
  } catch (error) {
    expect(error).to.be.instanceOf(AddressError);
    return (error as AddressError).reason;
  }
}

/** Flips the case of the last letter of the address body: a typo the checksum must catch. */
function flipLastLetter(address: string): string {
  const index = address.search(/[a-fA-F][^a-fA-F]*$/);
  const ch = address[index]!;
  const flipped = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
  return address.slice(0, index) + flipped + address.slice(index + 1);
}

describe('normaliseAddress', () => {
  for (const address of CHECKSUMMED) {
    it(`accepts the checksummed ${address} unchanged`, () => {
      expect(normaliseAddress(address)).to.equal(address);
    });
  }

  it('normalises all-lowercase addresses to their EIP-55 checksum', () => {
    for (const address of CHECKSUMMED) {
      expect(normaliseAddress(address.toLowerCase())).to.equal(address);
    }
  });

  it('accepts an all-uppercase body (no checksum) and returns the checksum', () => {
    for (const address of CHECKSUMMED) {
      const upper = `0x${address.slice(2).toUpperCase()}`;
      expect(normaliseAddress(upper)).to.equal(address);
    }
  });

  it("refuses a mixed-case address whose checksum is wrong with reason 'checksum'", () => {
    for (const address of CHECKSUMMED.filter((a) => /[a-f]/.test(a.slice(2)) && /[A-F]/.test(a.slice(2)))) {
      const typo = flipLastLetter(address);
      expect(typo).to.not.equal(address);
      expect(reasonOf(typo), typo).to.equal('checksum');
    }
    expect(() => normaliseAddress('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD')).to.throw(
      AddressError,
      /checksum is wrong/,
    );
  });

  const malformed: [string, string][] = [
    ['empty', ''],
    ['only 0x', '0x'],
    ['one character short', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe'],
    ['one character long', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0'],
    ['a non-hex character', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg'],
    ['no 0x prefix', '5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'],
    ['0x prefix and 40 characters without it', '005aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe'],
    ['an upper-case 0X prefix', '0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'],
    ['a space inside', '0x5aAeb6053F3E94C9b9A09 33669435E7Ef1BeAed'],
    ['an ENS name', 'vitalik.eth'],
    ['an ICAP address', 'XE7338O073KYGTWWZN0F2WZ0R8PX5ZPPZS'],
  ];
  for (const [what, input] of malformed) {
    it(`refuses ${what} with reason 'format'`, () => {
      expect(reasonOf(input)).to.equal('format');
      expect(() => normaliseAddress(input)).to.throw(
        AddressError,
        'an address is 0x followed by 40 hexadecimal characters',
      );
    });
  }

  it("refuses the zero address with reason 'zero'", () => {
    expect(reasonOf('0x0000000000000000000000000000000000000000')).to.equal('zero');
    expect(() => normaliseAddress('0x0000000000000000000000000000000000000000')).to.throw(AddressError, 'zero address');
  });

  it('trims surrounding whitespace', () => {
    expect(normaliseAddress('  0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n')).to.equal(CHECKSUMMED[0]);
    expect(normaliseAddress('\t0xde709f2102306220921060314715629080e2fb77 ')).to.equal(
      '0xde709f2102306220921060314715629080e2fb77',
    );
    expect(normaliseAddress(' 0x55D398326F99059FF775485246999027B3197955 ')).to.equal(
      '0x55d398326f99059fF775485246999027B3197955',
    );
  });
});
