// The users service's contracts: registration, wallets, the upline tree, contacts and bans.
import { z } from 'zod';
import { defineAction, defineChannel } from './define';
import { Id, ReferralLevel, TelegramId } from './primitives';

const optionalText = (max: number) => z.string().max(max).nullable().optional();

/** What a personal invitation code can look like: a Telegram deep-link payload, at most 64 of [A-Za-z0-9_-]. */
export const ReferralCode = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** Whether a /start payload can be a referral code at all (anything else is reported as unknown without a query). */
export const looksLikeReferralCode = (text: string): boolean => ReferralCode.safeParse(text).success;

export const UserRecord = z.object({
  id: Id,
  telegramId: TelegramId,
  username: z.string().nullable(),
  firstName: z.string().nullable(),
  languageCode: z.string().nullable(),
  walletAddress: z.string().nullable(),
  referralCode: z.string(),
  referrerId: Id.nullable(),
  isBanned: z.boolean(),
  /** When a registered wallet was last replaced by another (withdrawals wait a cooldown after it). */
  walletChangedAt: z.string().nullable(),
  hasWithdrawalPassword: z.boolean(),
  createdAt: z.string(),
  // Defaults keep an answer of a users replica from before these fields valid during a rolling deploy.
  /** The last time the user wrote to the bot (kept within a few minutes), null before they ever did. */
  lastSeenAt: z.string().nullable().default(null),
  /** Since when Telegram refuses delivery to the user (and why); null while they are reachable. */
  unreachableAt: z.string().nullable().default(null),
  unreachableReason: z.string().nullable().default(null),
});
export type UserRecord = z.infer<typeof UserRecord>;

export const ReferralOutcome = z.enum(['linked', 'none', 'self', 'unknown', 'cycle']);
export type ReferralOutcome = z.infer<typeof ReferralOutcome>;

export const Registration = z.object({ user: UserRecord, created: z.boolean(), referral: ReferralOutcome });
export type Registration = z.infer<typeof Registration>;

export const Upline = z.object({ level: ReferralLevel, userId: Id });
export type Upline = z.infer<typeof Upline>;

export const Contact = z.object({
  userId: Id,
  telegramId: TelegramId,
  languageCode: z.string().nullable(),
  firstName: z.string().nullable(),
});
export type Contact = z.infer<typeof Contact>;

export const RegisterParams = z.object({
  telegramId: TelegramId,
  username: optionalText(64),
  firstName: optionalText(256),
  languageCode: optionalText(35),
  // A /start payload; one that cannot be a code is registered as an unknown code (the bot drops longer ones).
  referralCode: optionalText(64),
});
export type RegisterParams = z.input<typeof RegisterParams>;

const UserIdParams = z.object({ userId: Id });

export const UsersActions = {
  register: defineAction('users.register', RegisterParams, Registration),
  // Only the shape is checked here; normaliseAddress gives the precise reason (format, checksum, zero).
  setWallet: defineAction(
    'users.setWallet',
    z.object({ userId: Id, address: z.string().max(100) }),
    z.object({ address: z.string() }),
  ),
  get: defineAction('users.get', UserIdParams, UserRecord.nullable()),
  byTelegramId: defineAction('users.byTelegramId', z.object({ telegramId: TelegramId }), UserRecord.nullable()),
  contacts: defineAction('users.contacts', z.object({ userIds: z.array(Id).max(1000) }), z.array(Contact)),
  uplines: defineAction('users.uplines', UserIdParams, z.array(Upline)),
  /** Registered owners of the given addresses (any case), keyed by checksummed address. */
  byWallets: defineAction(
    'users.byWallets',
    z.object({ addresses: z.array(z.string().max(100)).max(1000) }),
    z.record(z.string(), Id),
  ),
  referralCounts: defineAction(
    'users.referralCounts',
    UserIdParams,
    z.array(z.object({ level: ReferralLevel, count: z.number().int().min(0) })),
  ),
  ban: defineAction(
    'users.ban',
    z.object({ userId: Id, banned: z.boolean() }),
    z.object({ userId: Id, banned: z.boolean() }),
  ),
  /** Sets the financial password that confirms withdrawals, once (complexity rules apply). */
  setWithdrawalPassword: defineAction(
    'users.setWithdrawalPassword',
    z.object({ userId: Id, password: z.string().max(200) }),
    z.object({ ok: z.literal(true) }),
  ),
  /** Answers when the password is right; refuses a wrong one (PASSWORD_WRONG) or any try while locked. */
  checkWithdrawalPassword: defineAction(
    'users.checkWithdrawalPassword',
    z.object({ userId: Id, password: z.string().max(200) }),
    z.object({ ok: z.literal(true) }),
  ),
  /**
   * A page of a broadcast audience, by ascending user id after `afterUserId`: registered users who are neither
   * banned nor unreachable, optionally only those seen within `activeWithinDays` or with a language prefix.
   */
  audience: defineAction(
    'users.audience',
    z.object({
      afterUserId: Id.optional(),
      limit: z.number().int().min(1).max(5000).default(1000),
      activeWithinDays: z.number().int().min(1).max(3650).optional(),
      language: z
        .string()
        .regex(/^[a-z]{2,3}$/)
        .optional(),
    }),
    z.object({ recipients: z.array(Contact), next: Id.nullable() }),
  ),
  /** The number of users audience() would page through with the same filters. */
  audienceSize: defineAction(
    'users.audienceSize',
    z.object({
      activeWithinDays: z.number().int().min(1).max(3650).optional(),
      language: z
        .string()
        .regex(/^[a-z]{2,3}$/)
        .optional(),
    }),
    z.object({ count: z.number().int().min(0) }),
  ),
  /** The user wrote to the bot: last_seen_at moves on and an unreachable mark is cleared. */
  seen: defineAction('users.seen', z.object({ telegramId: TelegramId }), z.object({ reachableAgain: z.boolean() })),
  /** Telegram refused delivery for good (403 blocked or deactivated, 400 chat not found): skipped from now on. */
  markUnreachable: defineAction(
    'users.markUnreachable',
    z.object({ telegramId: TelegramId, reason: z.string().min(1).max(300) }),
    z.object({ marked: z.boolean() }),
  ),
  /** A user by Telegram username (any case, with or without "@"); the most recently updated holder of it. */
  byUsername: defineAction(
    'users.byUsername',
    z.object({
      username: z
        .string()
        .regex(/^@?[A-Za-z][A-Za-z0-9_]{0,31}$/)
        .transform((name) => name.replace(/^@/, '')),
    }),
    UserRecord.nullable(),
  ),
  /** For admins: how many users are unreachable, and the most recently marked of them. */
  unreachableSummary: defineAction(
    'users.unreachableSummary',
    z.object({ limit: z.number().int().min(1).max(50).default(10) }),
    z.object({
      count: z.number().int().min(0),
      recent: z.array(
        z.object({
          userId: Id,
          telegramId: TelegramId,
          username: z.string().nullable(),
          firstName: z.string().nullable(),
          unreachableAt: z.string(),
          reason: z.string().nullable(),
        }),
      ),
    }),
  ),
  /** Every banned user's Telegram id and ban version: a mirror of the flag rebuilds itself from this. */
  bannedTelegramIds: defineAction(
    'users.bannedTelegramIds',
    z.object({}),
    z.array(z.object({ telegramId: TelegramId, version: z.number().int().min(0) })),
  ),
};

export const UsersChannels = {
  /** users → anyone: a user became unreachable (Telegram refused delivery) or reachable again (they wrote). */
  reachabilityChanged: defineChannel(
    'users.reachability-changed',
    z.object({
      id: z.string().min(1).max(200),
      userId: Id,
      telegramId: TelegramId,
      reachable: z.boolean(),
      reason: z.string().max(300).nullable(),
      /** When the change was committed (the database's clock). */
      at: z.string(),
    }),
  ),
  /**
   * users → bot-gateway: a user's ban flag changed. `version` grows with every change, so a consumer applies a
   * change only if it is newer than the last it applied (messages may arrive out of order).
   */
  banChanged: defineChannel(
    'users.ban-changed',
    z.object({
      id: z.string().min(1).max(200),
      userId: Id,
      telegramId: TelegramId,
      banned: z.boolean(),
      version: z.number().int().positive(),
    }),
  ),
};
