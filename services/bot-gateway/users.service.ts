// `users`: owner of the users and referrals tables. Registration, wallets, the upline tree and bans; other
// services ask here (uplines for the ledger, contacts for the notifier, wallet owners for chain-monitor).
import { Errors, type Context, type ServiceSchema } from 'moleculer';
import { serviceLogger } from '../../lib/logger';
import type { Runtime } from '../../lib/runtime';
import { bannedTelegramIds, contactsOf, findUser, ownersOfWallets, referralCounts, setBanned } from './directory';
import { gatewayKeys } from './redis-keys';
import { findByTelegramId, registerUser, uplinesOf } from './registration';
import {
  addressesParams,
  banParams,
  registerParams,
  setWalletParams,
  telegramIdParams,
  userIdParams,
  userIdsParams,
  type AddressesParams,
  type BanParams,
  type RegisterParams,
  type SetWalletParams,
  type TelegramIdParams,
  type UserIdParams,
  type UserIdsParams,
} from './schemas';
import { assignWallet, type WalletRefusal } from './wallet';

const { MoleculerClientError } = Errors;

const REFUSALS: Record<WalletRefusal['code'], { status: number; message: string }> = {
  INVALID_ADDRESS: { status: 422, message: 'the address is not a valid BSC address' },
  ADDRESS_IS_SYSTEM_WALLET: { status: 422, message: 'the address is the system wallet' },
  WALLET_TAKEN: { status: 409, message: 'the address is registered by another user' },
  USER_NOT_FOUND: { status: 404, message: 'no such user' },
};

export function usersService(runtime: Runtime): ServiceSchema {
  const { config, db, redis } = runtime;
  const log = serviceLogger('users');
  const keys = gatewayKeys(config.NAMESPACE, config.TELEGRAM_BOT_TOKEN);

  return {
    name: 'users',
    settings: { $noVersionPrefix: true },
    dependencies: [],

    actions: {
      register: {
        params: registerParams,
        async handler(ctx: Context<RegisterParams>) {
          const { referralCode, ...profile } = ctx.params;
          const result = await registerUser(db.pool, profile, referralCode, config.MAX_REFERRAL_DEPTH);
          if (result.created) {
            log.info(
              { request_id: ctx.requestID, user_id: result.user.id, referral: result.referral },
              'user registered',
            );
          }
          return result;
        },
      },

      setWallet: {
        params: setWalletParams,
        async handler(ctx: Context<SetWalletParams>) {
          const result = await assignWallet(
            db.pool,
            ctx.params.userId,
            ctx.params.address,
            config.SYSTEM_WALLET_ADDRESS,
          );
          if (result.ok) {
            log.info({ request_id: ctx.requestID, user_id: ctx.params.userId }, 'wallet registered');
            return { address: result.address };
          }
          const { status, message } = REFUSALS[result.refusal.code];
          const data = 'reason' in result.refusal ? { reason: result.refusal.reason } : {};
          throw new MoleculerClientError(message, status, result.refusal.code, data);
        },
      },

      get: {
        params: userIdParams,
        async handler(ctx: Context<UserIdParams>) {
          return (await findUser(db.pool, ctx.params.userId)) ?? null;
        },
      },

      byTelegramId: {
        params: telegramIdParams,
        async handler(ctx: Context<TelegramIdParams>) {
          return (await findByTelegramId(db.pool, ctx.params.telegramId)) ?? null;
        },
      },

      contacts: {
        params: userIdsParams,
        async handler(ctx: Context<UserIdsParams>) {
          return contactsOf(db.pool, ctx.params.userIds);
        },
      },

      uplines: {
        params: userIdParams,
        async handler(ctx: Context<UserIdParams>) {
          return uplinesOf(db.pool, ctx.params.userId);
        },
      },

      byWallets: {
        params: addressesParams,
        async handler(ctx: Context<AddressesParams>) {
          return ownersOfWallets(db.pool, ctx.params.addresses);
        },
      },

      referralCounts: {
        params: userIdParams,
        async handler(ctx: Context<UserIdParams>) {
          return referralCounts(db.pool, ctx.params.userId);
        },
      },

      ban: {
        params: banParams,
        async handler(ctx: Context<BanParams>) {
          const { userId, banned } = ctx.params;
          const user = await setBanned(db.pool, userId, banned);
          if (!user) throw new MoleculerClientError('no such user', 404, 'USER_NOT_FOUND');
          // The bot's middleware checks Redis only; the database stays the source of truth (see started()).
          if (banned) await redis.set(keys.ban(user.telegramId), '1');
          else await redis.del(keys.ban(user.telegramId));
          log.info({ request_id: ctx.requestID, user_id: userId, banned }, banned ? 'user banned' : 'user unbanned');
          return { userId, banned };
        },
      },
    },

    async started() {
      // Redis may have lost the mirror (restart without persistence): rebuild it from the database.
      try {
        const banned = await bannedTelegramIds(db.pool);
        if (banned.length > 0) {
          const pipeline = redis.pipeline();
          for (const telegramId of banned) pipeline.set(keys.ban(telegramId), '1');
          await pipeline.exec();
        }
      } catch (error) {
        log.warn({ err: error }, 'could not mirror bans to Redis; they apply again once users.ban is called');
      }
    },
  };
}
