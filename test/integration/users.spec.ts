// The users service on real PostgreSQL, Redis and NATS: registration and referral links, wallets, look-ups, bans.
import { expect } from 'chai';
import { randomBytes, randomInt } from 'node:crypto';
import { Errors } from 'moleculer';
import type { Config } from '../../services';
import { createRedis, type Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { usersService } from '../../services/users/users.service';
import type { Registration, UserRecord } from '../../lib/contracts';
import { testConfig } from '../support/config';
import { channelMessages } from '../support/jetstream';
import { eventually } from '../support/system';
import { createTestDatabase, type TestDatabase } from '../support/database';

process.env.LOG_LEVEL ??= 'warn';

const SYSTEM_WALLET = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const walletOf = () => `0x${randomBytes(20).toString('hex')}`;
const telegramId = () => String(randomInt(1_000_000_000, 2_000_000_000));

const usersConfig = (db: TestDatabase, overrides: Record<string, string> = {}): Config =>
  testConfig({ DATABASE_URL: db.url, SYSTEM_WALLET_ADDRESS: SYSTEM_WALLET, ...overrides });

async function clientError(promise: Promise<unknown>): Promise<Errors.MoleculerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(Errors.MoleculerError);
    return error as Errors.MoleculerError;
  }
  throw new Error('expected the call to be refused');
}

describe('users service', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let redis: Redis;
  let config: Config;
  let node: Node;

  const call = <T>(action: string, params: object) => node.broker.call<T, object>(`users.${action}`, params);
  const register = (params: { telegramId: string; referralCode?: string; firstName?: string; languageCode?: string }) =>
    call<Registration>('register', params);
  const rowCount = async (sql: string, params: unknown[]) =>
    Number((await db.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

  before(async () => {
    db = await createTestDatabase('users');
    redis = createRedis('redis://127.0.0.1:6379');
    config = usersConfig(db);
    node = await startNode(config, [usersService], { db, redis });
  });
  after(async () => {
    await node?.stop();
    redis?.disconnect();
    await db?.drop();
  });

  describe('register', () => {
    it('registers once and answers a returning user with the same record', async () => {
      const id = telegramId();
      const first = await register({ telegramId: id, firstName: 'Ann', languageCode: 'en' });
      expect(first.created).to.equal(true);
      expect(first.referral).to.equal('none');
      expect(first.user).to.include({
        telegramId: id,
        firstName: 'Ann',
        languageCode: 'en',
        walletAddress: null,
        referrerId: null,
        isBanned: false,
      });
      expect(first.user.id).to.match(/^\d+$/);
      expect(first.user.referralCode).to.match(/^[A-Za-z0-9]{8}$/);

      const again = await register({ telegramId: id, firstName: 'Ann', languageCode: 'en' });
      expect(again).to.deep.equal({ user: first.user, created: false, referral: 'none' });
    });

    it('keeps the profile current for returning users', async () => {
      const id = telegramId();
      await register({ telegramId: id, firstName: 'Ann', languageCode: 'en' });
      const again = await register({ telegramId: id, firstName: 'Anna', languageCode: 'ru' });
      expect(again.user).to.include({ firstName: 'Anna', languageCode: 'ru' });
    });

    it('creates exactly one row for 20 simultaneous registrations of one user', async () => {
      const id = telegramId();
      const results = await Promise.all(Array.from({ length: 20 }, () => register({ telegramId: id })));
      expect(await rowCount('SELECT count(*) AS n FROM users WHERE telegram_id = $1', [id])).to.equal(1);
      expect(results.filter((r) => r.created)).to.have.length(1);
      expect(new Set(results.map((r) => r.user.id)).size).to.equal(1);
      expect(new Set(results.map((r) => r.user.referralCode)).size).to.equal(1);
    });

    it('links A→B→C→D: D gets C, B and A as uplines at levels 1, 2 and 3', async () => {
      const a = await register({ telegramId: telegramId() });
      const b = await register({ telegramId: telegramId(), referralCode: a.user.referralCode });
      const c = await register({ telegramId: telegramId(), referralCode: b.user.referralCode });
      const d = await register({ telegramId: telegramId(), referralCode: c.user.referralCode });
      for (const [invited, inviter] of [
        [b, a],
        [c, b],
        [d, c],
      ] as const) {
        expect(invited.created).to.equal(true);
        expect(invited.referral).to.equal('linked');
        expect(invited.user.referrerId).to.equal(inviter.user.id);
      }
      expect(await call('uplines', { userId: d.user.id })).to.deep.equal([
        { level: 1, userId: c.user.id },
        { level: 2, userId: b.user.id },
        { level: 3, userId: a.user.id },
      ]);
      expect(await call('uplines', { userId: b.user.id })).to.deep.equal([{ level: 1, userId: a.user.id }]);
      expect(await call('uplines', { userId: a.user.id })).to.deep.equal([]);
      expect(await call('referralCounts', { userId: a.user.id })).to.deep.equal([
        { level: 1, count: 1 },
        { level: 2, count: 1 },
        { level: 3, count: 1 },
      ]);

      // A fifth level down still links only three levels up.
      const e = await register({ telegramId: telegramId(), referralCode: d.user.referralCode });
      expect(await call('uplines', { userId: e.user.id })).to.deep.equal([
        { level: 1, userId: d.user.id },
        { level: 2, userId: c.user.id },
        { level: 3, userId: b.user.id },
      ]);
    });

    it('stops at MAX_REFERRAL_DEPTH=2', async () => {
      const shallow = await startNode(usersConfig(db, { MAX_REFERRAL_DEPTH: '2' }), [usersService], { db, redis });
      try {
        const reg = (referralCode?: string) =>
          shallow.broker.call<Registration, object>('users.register', {
            telegramId: telegramId(),
            ...(referralCode ? { referralCode } : {}),
          });
        const a = await reg();
        const b = await reg(a.user.referralCode);
        const c = await reg(b.user.referralCode);
        const d = await reg(c.user.referralCode);
        expect(await shallow.broker.call('users.uplines', { userId: d.user.id })).to.deep.equal([
          { level: 1, userId: c.user.id },
          { level: 2, userId: b.user.id },
        ]);
      } finally {
        await shallow.stop();
      }
    });

    it('registers with an unknown code but links nobody', async () => {
      for (const code of ['nosuchcd', "x' OR '1'='1", 'a'.repeat(64)]) {
        const result = await register({ telegramId: telegramId(), referralCode: code });
        expect(result.created).to.equal(true);
        expect(result.referral).to.equal('unknown');
        expect(result.user.referrerId).to.equal(null);
        expect(await call('uplines', { userId: result.user.id })).to.deep.equal([]);
      }
    });

    it('refuses a user’s own code and never re-links an existing user', async () => {
      const a = await register({ telegramId: telegramId() });
      const b = await register({ telegramId: telegramId(), referralCode: a.user.referralCode });
      const other = await register({ telegramId: telegramId() });

      const self = await register({ telegramId: b.user.telegramId, referralCode: b.user.referralCode });
      expect(self).to.deep.include({ created: false, referral: 'self' });

      const relink = await register({ telegramId: b.user.telegramId, referralCode: other.user.referralCode });
      expect(relink).to.deep.include({ created: false, referral: 'none' });

      const unknown = await register({ telegramId: b.user.telegramId, referralCode: 'zzzzzzzz' });
      expect(unknown).to.deep.include({ created: false, referral: 'unknown' });

      // A linking to its own downline would be a cycle: refused the same way (A exists).
      const cycle = await register({ telegramId: a.user.telegramId, referralCode: b.user.referralCode });
      expect(cycle).to.deep.include({ created: false, referral: 'none' });

      expect((await call<UserRecord>('get', { userId: b.user.id })).referrerId).to.equal(a.user.id);
      expect((await call<UserRecord>('get', { userId: a.user.id })).referrerId).to.equal(null);
      expect(await call('uplines', { userId: b.user.id })).to.deep.equal([{ level: 1, userId: a.user.id }]);
      expect(await call('uplines', { userId: a.user.id })).to.deep.equal([]);
    });

    it('validates its parameters', async () => {
      const error = await clientError(register({ telegramId: 'abc' }));
      expect(error.type).to.equal('VALIDATION_ERROR');
    });
  });

  describe('setWallet', () => {
    it('stores the checksummed form of a lowercase address and allows changing one’s own wallet', async () => {
      const { user } = await register({ telegramId: telegramId() });
      const lower = '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359';
      expect(await call('setWallet', { userId: user.id, address: lower })).to.deep.equal({
        address: '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      });
      expect((await call<UserRecord>('get', { userId: user.id })).walletAddress).to.equal(
        '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      );
      // the same address again, in its checksummed form: still this user's
      expect(
        await call('setWallet', { userId: user.id, address: '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359' }),
      ).to.deep.equal({
        address: '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      });
      const next = walletOf();
      const changed = await call<{ address: string }>('setWallet', { userId: user.id, address: next });
      expect(changed.address.toLowerCase()).to.equal(next);
      expect(await call('byWallets', { addresses: [lower] })).to.deep.equal({});
    });

    it('refuses bad addresses, taken wallets and the system wallet, storing nothing', async () => {
      const owner = await register({ telegramId: telegramId() });
      const taken = walletOf();
      await call('setWallet', { userId: owner.user.id, address: taken });
      const { user } = await register({ telegramId: telegramId() });

      const cases: [string, string, string | undefined][] = [
        ['0xFB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', 'INVALID_ADDRESS', 'checksum'],
        ['0x1234', 'INVALID_ADDRESS', 'format'],
        ['not an address', 'INVALID_ADDRESS', 'format'],
        ['0x0000000000000000000000000000000000000000', 'INVALID_ADDRESS', 'zero'],
        [taken, 'WALLET_TAKEN', undefined],
        [taken.toUpperCase().replace('0X', '0x'), 'WALLET_TAKEN', undefined],
        [SYSTEM_WALLET, 'ADDRESS_IS_SYSTEM_WALLET', undefined],
        [SYSTEM_WALLET.toLowerCase(), 'ADDRESS_IS_SYSTEM_WALLET', undefined],
      ];
      for (const [address, type, reason] of cases) {
        const error = await clientError(call('setWallet', { userId: user.id, address }));
        expect(error).to.be.instanceOf(Errors.MoleculerClientError);
        expect(error.type, address).to.equal(type);
        if (reason) expect(error.data).to.deep.equal({ reason });
      }
      expect((await call<UserRecord>('get', { userId: user.id })).walletAddress).to.equal(null);
    });

    it('gives one address to one user when two claim it at once', async () => {
      const [a, b] = await Promise.all([
        register({ telegramId: telegramId() }),
        register({ telegramId: telegramId() }),
      ]);
      const address = walletOf();
      const results = await Promise.allSettled([
        call('setWallet', { userId: a.user.id, address }),
        call('setWallet', { userId: b.user.id, address }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((refused.reason as Errors.MoleculerError).type).to.equal('WALLET_TAKEN');
      expect(await rowCount('SELECT count(*) AS n FROM users WHERE lower(wallet_address) = $1', [address])).to.equal(1);
    });

    it('answers USER_NOT_FOUND for an unknown user', async () => {
      const error = await clientError(call('setWallet', { userId: '999999999', address: walletOf() }));
      expect(error.type).to.equal('USER_NOT_FOUND');
    });
  });

  describe('look-ups', () => {
    it('get and byTelegramId answer the record or null', async () => {
      const { user } = await register({ telegramId: telegramId(), firstName: 'Bob' });
      expect(await call('get', { userId: user.id })).to.deep.equal(user);
      expect(await call('byTelegramId', { telegramId: user.telegramId })).to.deep.equal(user);
      expect(await call('get', { userId: '999999999' })).to.equal(null);
      expect(await call('byTelegramId', { telegramId: '1' })).to.equal(null);
    });

    it('contacts lists the known users', async () => {
      const a = await register({ telegramId: telegramId(), firstName: 'Ann', languageCode: 'ru' });
      const b = await register({ telegramId: telegramId(), firstName: 'Ben' });
      const contacts = await call<unknown[]>('contacts', { userIds: [b.user.id, a.user.id, '999999999', a.user.id] });
      expect(contacts).to.have.deep.members([
        { userId: a.user.id, telegramId: a.user.telegramId, languageCode: 'ru', firstName: 'Ann' },
        { userId: b.user.id, telegramId: b.user.telegramId, languageCode: null, firstName: 'Ben' },
      ]);
      expect(await call('contacts', { userIds: [] })).to.deep.equal([]);
    });

    it('byWallets maps registered addresses, in any case, to their users', async () => {
      const { user } = await register({ telegramId: telegramId() });
      const address = walletOf();
      const { address: checksummed } = await call<{ address: string }>('setWallet', { userId: user.id, address });
      const owners = await call('byWallets', { addresses: [address, walletOf(), 'garbage', checksummed] });
      expect(owners).to.deep.equal({ [checksummed]: user.id });

      const many = Array.from({ length: 1000 }, walletOf);
      many[500] = checksummed;
      expect(await call('byWallets', { addresses: many })).to.deep.equal({ [checksummed]: user.id });
      const error = await clientError(call('byWallets', { addresses: [...many, walletOf()] }));
      expect(error.type).to.equal('VALIDATION_ERROR');
    });

    it('referralCounts answers every level, zeros included', async () => {
      const { user } = await register({ telegramId: telegramId() });
      expect(await call('referralCounts', { userId: user.id })).to.deep.equal([
        { level: 1, count: 0 },
        { level: 2, count: 0 },
        { level: 3, count: 0 },
      ]);
      await register({ telegramId: telegramId(), referralCode: user.referralCode });
      await register({ telegramId: telegramId(), referralCode: user.referralCode });
      expect((await call<{ level: number; count: number }[]>('referralCounts', { userId: user.id }))[0]).to.deep.equal({
        level: 1,
        count: 2,
      });
    });
  });

  describe('ban', () => {
    it('sets the flag and announces each change on users.ban-changed', async () => {
      const { user } = await register({ telegramId: telegramId() });
      expect(await call('ban', { userId: user.id, banned: true })).to.deep.equal({ userId: user.id, banned: true });
      expect((await call<UserRecord>('get', { userId: user.id })).isBanned).to.equal(true);
      await call('ban', { userId: user.id, banned: false });
      expect((await call<UserRecord>('get', { userId: user.id })).isBanned).to.equal(false);
      const announced = await eventually(async () => {
        const messages = (
          await channelMessages<{ userId: string; telegramId: string; banned: boolean; version: number }>(
            config.NAMESPACE,
            'users.ban-changed',
          )
        )
          .map((m) => m.data)
          .filter((m) => m.userId === user.id);
        return messages.length === 2 && messages;
      }, 'both changes announced');
      expect(announced.map((m) => [m.telegramId, m.banned, m.version])).to.deep.equal([
        [user.telegramId, true, 1],
        [user.telegramId, false, 2],
      ]);
      expect(await call<{ telegramId: string }[]>('bannedTelegramIds', {})).not.to.deep.include({
        telegramId: user.telegramId,
        version: 2,
      });
      await call('ban', { userId: user.id, banned: true });
      expect(await call('bannedTelegramIds', {})).to.deep.include({ telegramId: user.telegramId, version: 3 });
    });

    it('answers USER_NOT_FOUND for an unknown user', async () => {
      expect((await clientError(call('ban', { userId: '999999999', banned: true }))).type).to.equal('USER_NOT_FOUND');
    });
  });
});
