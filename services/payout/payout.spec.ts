// The payout service's pure parts: the sealed hot-wallet key, its configuration checks, the replacement price and
// the retry backoff.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { ConfigError } from '../../lib/config';
import { loadFullConfig } from '..';
import { testEnv } from '../../test/support/config';
import { encryptionKey, openPrivateKey, sealPrivateKey, walletFromKey } from './hot-wallet-key';
import { retryDelayMs } from './store';
import { bumped } from './writer';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadFullConfig(testEnv(env));
    return [];
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
};

describe('payout', () => {
  const hot = Wallet.createRandom();
  const key = randomBytes(32);

  describe('hot-wallet key', () => {
    it('seals a key that opens with the same ENCRYPTION_KEY only', () => {
      const sealed = sealPrivateKey(hot.privateKey, key);
      expect(sealed).to.match(/^v1:[^:]+:[^:]+:[^:]+$/);
      expect(sealed).not.to.contain(hot.privateKey.slice(2, 20));
      expect(openPrivateKey(sealed, key)).to.equal(hot.privateKey);
      expect(sealPrivateKey(hot.privateKey, key)).not.to.equal(sealed); // a fresh IV each time
      expect(() => openPrivateKey(sealed, randomBytes(32))).to.throw(/does not open with ENCRYPTION_KEY/);
    });

    it('refuses a sealed key altered anywhere, and text that is no sealed key', () => {
      const sealed = sealPrivateKey(hot.privateKey, key);
      const parts = sealed.split(':');
      for (const i of [1, 2, 3]) {
        const altered = [...parts];
        const bytes = Buffer.from(altered[i]!, 'base64');
        bytes[0] = bytes[0]! ^ 1;
        altered[i] = bytes.toString('base64');
        expect(() => openPrivateKey(altered.join(':'), key), `part ${i}`).to.throw(/another key, or altered/);
      }
      expect(() => openPrivateKey(hot.privateKey, key)).to.throw(/is not a sealed key/);
    });

    it('reads ENCRYPTION_KEY as 64 hex digits or base64 of 32 bytes', () => {
      expect(encryptionKey(key.toString('hex'))).to.deep.equal(key);
      expect(encryptionKey(key.toString('base64'))).to.deep.equal(key);
      expect(() => encryptionKey('abcd')).to.throw(/32 bytes/);
    });

    it('never quotes a bad private key in its error', () => {
      const bad = `0x${'z'.repeat(64)}`;
      expect(() => walletFromKey(bad)).to.throw(/32-byte hex private key/);
      try {
        walletFromKey(bad);
      } catch (error) {
        expect((error as Error).message).not.to.contain('zzzz');
      }
      expect(walletFromKey(hot.privateKey.slice(2)).address).to.equal(hot.address);
    });
  });

  describe('configuration', () => {
    it('keeps DRY_RUN on unless it is exactly "false"', () => {
      expect(loadFullConfig(testEnv()).DRY_RUN).to.equal(true);
      expect(problemsOf({ DRY_RUN: 'flase' })).to.deep.equal(['DRY_RUN must be true or false, got "flase"']);
    });

    it('needs a wallet and exactly one form of its key when DRY_RUN=false', () => {
      expect(problemsOf({ DRY_RUN: 'false' })).to.deep.equal([
        'PAYOUT_WALLET_ADDRESS is required when DRY_RUN=false',
        'DRY_RUN=false needs exactly one of PAYOUT_WALLET_PRIVATE_KEY and PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED',
      ]);
      const sealed = sealPrivateKey(hot.privateKey, key);
      expect(
        problemsOf({
          DRY_RUN: 'false',
          PAYOUT_WALLET_ADDRESS: hot.address,
          PAYOUT_WALLET_PRIVATE_KEY: hot.privateKey,
          PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED: sealed,
          ENCRYPTION_KEY: key.toString('hex'),
        }),
      ).to.have.length(1);
    });

    it('derives the address from the key and refuses one that differs', () => {
      const other = Wallet.createRandom().address;
      const problems = problemsOf({
        DRY_RUN: 'false',
        PAYOUT_WALLET_ADDRESS: other,
        PAYOUT_WALLET_PRIVATE_KEY: hot.privateKey,
      });
      expect(problems).to.deep.equal([
        `PAYOUT_WALLET_ADDRESS does not match the private key, whose address is ${hot.address}`,
      ]);
      expect(problems.join('\n')).not.to.contain(hot.privateKey.slice(2));
    });

    it('opens a sealed key with ENCRYPTION_KEY, and names the variable when it does not open', () => {
      const sealed = sealPrivateKey(hot.privateKey, key);
      const env = { DRY_RUN: 'false', PAYOUT_WALLET_ADDRESS: hot.address, PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED: sealed };
      expect(problemsOf({ ...env, ENCRYPTION_KEY: key.toString('hex') })).to.deep.equal([]);
      expect(problemsOf(env)).to.deep.equal(['ENCRYPTION_KEY is required to open PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED']);
      expect(problemsOf({ ...env, ENCRYPTION_KEY: randomBytes(32).toString('hex') })).to.deep.equal([
        'PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED does not open with ENCRYPTION_KEY (another key, or altered)',
      ]);
    });
  });

  it('replaces at no less than 12.5% more gas price, rounded up', () => {
    expect(bumped(1_000_000_000n)).to.equal(1_125_000_000n);
    expect(bumped(3n)).to.equal(4n);
    for (const price of [1n, 7n, 10n ** 9n + 1n, 3n * 10n ** 9n])
      expect(bumped(price) * 8n >= price * 9n).to.equal(true);
  });

  it('backs off exponentially with ±50% jitter', () => {
    const policy = { maxAttempts: 5, baseDelayMs: 60_000 };
    expect(retryDelayMs(policy, 1, () => 0.5)).to.equal(60_000);
    expect(retryDelayMs(policy, 3, () => 0.5)).to.equal(240_000);
    expect(retryDelayMs(policy, 3, () => 0)).to.equal(120_000);
    expect(retryDelayMs(policy, 3, () => 0.999999)).to.be.closeTo(360_000, 1);
    expect(retryDelayMs(policy, 100, () => 0.5)).to.equal(60_000 * 2 ** 16); // capped, never Infinity
  });
});
