// The address module alone: a process that only checks addresses (every config) need not load all of ethers.
import { getAddress, isAddress } from 'ethers/address';

export class AddressError extends Error {
  constructor(
    readonly reason: 'format' | 'checksum' | 'zero',
    message: string,
  ) {
    super(message);
  }
}

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const ZERO = '0x0000000000000000000000000000000000000000';

/**
 * Accepts a BSC address that is either all-lowercase / all-uppercase hex (no checksum) or a valid EIP-55
 * mixed-case checksum, and returns the checksummed form. A mixed-case address with a wrong checksum is a typo.
 */
export function normaliseAddress(input: string): string {
  const text = input.trim();
  if (!HEX_ADDRESS.test(text)) {
    throw new AddressError('format', 'an address is 0x followed by 40 hexadecimal characters');
  }
  const body = text.slice(2);
  const mixedCase = body !== body.toLowerCase() && body !== body.toUpperCase();
  if (mixedCase && !isAddress(text)) {
    throw new AddressError('checksum', 'the address has mixed case but its EIP-55 checksum is wrong');
  }
  const address = getAddress(text.toLowerCase());
  if (address === ZERO) throw new AddressError('zero', 'the zero address cannot hold funds');
  return address;
}
