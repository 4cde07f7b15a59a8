// Seals the hot wallet's private key for PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED:
//   ENCRYPTION_KEY=$(openssl rand -hex 32) npm run -s encrypt-key < key.txt
// The key is read from standard input (never an argument, which shell history and `ps` would keep). Prints the
// sealed key and the address it belongs to (PAYOUT_WALLET_ADDRESS).
import { readFileSync } from 'node:fs';
import { loadDotEnv } from '../lib/config';
import { encryptionKey, openPrivateKey, sealPrivateKey, walletFromKey } from '../services/payout/hot-wallet-key';

loadDotEnv();
const fail = (message: string): never => {
  console.error(message);
  process.exit(1);
};
const rawKey = process.env.ENCRYPTION_KEY?.trim();
if (!rawKey) fail('ENCRYPTION_KEY is required: 32 bytes as 64 hex digits or base64 (openssl rand -hex 32)');
let key: Buffer = Buffer.alloc(0);
try {
  key = encryptionKey(rawKey!);
} catch (error) {
  fail(`ENCRYPTION_KEY ${(error as Error).message}`);
}
const privateKey = readFileSync(0, 'utf8').trim();
if (!privateKey) fail('give the private key on standard input');
let address = '';
try {
  address = walletFromKey(privateKey).address;
} catch (error) {
  fail(`the private key ${(error as Error).message}`);
}
const sealed = sealPrivateKey(privateKey.startsWith('0x') ? privateKey : `0x${privateKey}`, key);
if (walletFromKey(openPrivateKey(sealed, key)).address !== address) fail('sealing failed its own check');
console.log(`PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED=${sealed}`);
console.log(`PAYOUT_WALLET_ADDRESS=${address}`);
