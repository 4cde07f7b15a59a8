// The hot wallet's private key: given plainly, or sealed with ENCRYPTION_KEY (AES-256-GCM, so a tampered or
// wrongly keyed secret fails to open rather than yielding another key). `npm run encrypt-key` seals one.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';

const FORMAT = 'aes-256-gcm';
const PREFIX = 'v1';

/** ENCRYPTION_KEY: 32 bytes, as 64 hex digits or base64. */
export function encryptionKey(raw: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new Error('must be 32 bytes, as 64 hex digits or base64 (openssl rand -hex 32)');
  return key;
}

/** `v1:<iv>:<tag>:<ciphertext>`, base64 parts. */
export function sealPrivateKey(privateKey: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv(FORMAT, key, iv);
  const sealed = Buffer.concat([cipher.update(privateKey, 'utf8'), cipher.final()]);
  return [PREFIX, iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join(':');
}

export function openPrivateKey(sealed: string, key: Buffer): string {
  const [prefix, iv, tag, data] = sealed.split(':');
  if (prefix !== PREFIX || !iv || !tag || !data) throw new Error('is not a sealed key (v1:iv:tag:data)');
  try {
    const decipher = createDecipheriv(FORMAT, key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('does not open with ENCRYPTION_KEY (another key, or altered)');
  }
}

/** A signer from a 0x-prefixed 32-byte hex key; the error never quotes the key. */
export function walletFromKey(privateKey: string): Wallet {
  const hex = privateKey.startsWith('0x') ? privateKey : `0x${privateKey}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new Error('must be a 32-byte hex private key');
  try {
    return new Wallet(hex);
  } catch {
    throw new Error('is not a valid secp256k1 private key');
  }
}
