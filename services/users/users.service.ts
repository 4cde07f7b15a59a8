// `users`: owner of the users and referrals tables. Registration, wallets, the upline tree and bans; other
// services ask here (uplines for the ledger, contacts for the notifier, wallet owners for chain-monitor), and
// ban changes are announced on a durable channel.
import { Errors } from 'moleculer';
import { implement, UsersActions } from '../../lib/contracts';
import { serviceLogger } from '../../lib/logger';
import { startOutboxRelay, type OutboxRelay } from '../../lib/outbox';
import { defineService } from '../../lib/runtime';
import { audiencePage, audienceSize } from './audience';
import { changeBan, USERS_OUTBOX } from './bans';
import { usersConfig } from './config';
import {
  bannedTelegramIds,
  contactsOf,
  findByTelegramId,
  findUser,
  ownersOfWallets,
  referralCounts,
} from './directory';
import { checkWithdrawalPassword, setWithdrawalPassword } from './passwords';
import { registerUser, uplinesOf } from './registration';
import { assignWallet, type WalletRefusal } from './wallets';

const { MoleculerClientError } = Errors;

const REFUSALS: Record<WalletRefusal['code'], { status: number; message: string }> = {
  INVALID_ADDRESS: { status: 422, message: 'the address is not a valid BSC address' },
  ADDRESS_IS_SYSTEM_WALLET: { status: 422, message: 'the address is the system wallet' },
  WALLET_TAKEN: { status: 409, message: 'the address is registered by another user' },
  USER_NOT_FOUND: { status: 404, message: 'no such user' },
};

export const usersService = defineService('users', usersConfig, (runtime) => {
  const { config, db } = runtime;
  const log = serviceLogger('users');
  let relay: OutboxRelay | undefined;
  const passwordPolicy = { maxFailures: config.PASSWORD_MAX_FAILURES, lockMs: config.PASSWORD_LOCK_MINUTES * 60_000 };

  return {
    name: 'users',
    settings: { $noVersionPrefix: true },

    actions: {
      register: implement(UsersActions.register, async (ctx) => {
        const { referralCode, ...profile } = ctx.params;
        const result = await registerUser(db, profile, referralCode, config.MAX_REFERRAL_DEPTH);
        if (result.created) {
          log.info(
            { request_id: ctx.requestID, user_id: result.user.id, referral: result.referral },
            'user registered',
          );
        }
        return result;
      }),

      setWallet: implement(UsersActions.setWallet, async (ctx) => {
        const result = await assignWallet(db.pool, ctx.params.userId, ctx.params.address, config.SYSTEM_WALLET_ADDRESS);
        if (result.ok) {
          log.info({ request_id: ctx.requestID, user_id: ctx.params.userId }, 'wallet registered');
          return { address: result.address };
        }
        const { status, message } = REFUSALS[result.refusal.code];
        const data = 'reason' in result.refusal ? { reason: result.refusal.reason } : {};
        throw new MoleculerClientError(message, status, result.refusal.code, data);
      }),

      get: implement(UsersActions.get, async (ctx) => (await findUser(db.prisma, ctx.params.userId)) ?? null),

      byTelegramId: implement(
        UsersActions.byTelegramId,
        async (ctx) => (await findByTelegramId(db.prisma, ctx.params.telegramId)) ?? null,
      ),

      contacts: implement(UsersActions.contacts, (ctx) => contactsOf(db.prisma, ctx.params.userIds)),

      uplines: implement(UsersActions.uplines, (ctx) => uplinesOf(db.pool, ctx.params.userId)),

      byWallets: implement(UsersActions.byWallets, (ctx) => ownersOfWallets(db.prisma, ctx.params.addresses)),

      referralCounts: implement(UsersActions.referralCounts, (ctx) => referralCounts(db.prisma, ctx.params.userId)),

      ban: implement(UsersActions.ban, async (ctx) => {
        const { userId, banned } = ctx.params;
        const user = await changeBan(db.pool, userId, banned);
        if (!user) throw new MoleculerClientError('no such user', 404, 'USER_NOT_FOUND');
        relay?.kick();
        log.info({ request_id: ctx.requestID, user_id: userId, banned }, banned ? 'user banned' : 'user unbanned');
        return { userId, banned };
      }),

      setWithdrawalPassword: implement(UsersActions.setWithdrawalPassword, async (ctx) => {
        await setWithdrawalPassword(db.pool, ctx.params.userId, ctx.params.password);
        log.info({ request_id: ctx.requestID, user_id: ctx.params.userId }, 'financial password set');
        return { ok: true as const };
      }),

      checkWithdrawalPassword: implement(UsersActions.checkWithdrawalPassword, async (ctx) => {
        await checkWithdrawalPassword(db.pool, passwordPolicy, ctx.params.userId, ctx.params.password);
        return { ok: true as const };
      }),

      bannedTelegramIds: implement(UsersActions.bannedTelegramIds, () => bannedTelegramIds(db.prisma)),

      audience: implement(UsersActions.audience, (ctx) => audiencePage(db.pool, ctx.params)),

      audienceSize: implement(UsersActions.audienceSize, async (ctx) => ({
        count: await audienceSize(db.pool, ctx.params),
      })),
    },

    started() {
      relay = startOutboxRelay(this.broker, db.pool, USERS_OUTBOX, log);
    },

    async stopped() {
      await relay?.stop();
    },
  };
});
