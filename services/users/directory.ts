// The read side of the users tables for other services: plain reads, through Prisma (bans are written in bans.ts).
import { normaliseAddress } from '../../lib/address';
import { REFERRAL_LEVELS, type Contact } from '../../lib/contracts';
import type { PrismaClient } from '../../lib/db';
import type pg from 'pg';
import { toUserRecord, USER_COLUMNS, userRecordOf, type UserRecord, type UserRow } from './user-record';

export async function findUser(prisma: PrismaClient, userId: string): Promise<UserRecord | undefined> {
  const user = await prisma.user.findUnique({ where: { id: BigInt(userId) } });
  return user ? userRecordOf(user) : undefined;
}

export async function findByTelegramId(prisma: PrismaClient, telegramId: string): Promise<UserRecord | undefined> {
  const user = await prisma.user.findUnique({ where: { telegramId: BigInt(telegramId) } });
  return user ? userRecordOf(user) : undefined;
}

export async function contactsOf(prisma: PrismaClient, userIds: readonly string[]): Promise<Contact[]> {
  if (userIds.length === 0) return [];
  const users = await prisma.user.findMany({
    where: { id: { in: [...new Set(userIds)].map(BigInt) } },
    select: { id: true, telegramId: true, languageCode: true, firstName: true },
    orderBy: { id: 'asc' },
  });
  return users.map((user) => ({
    userId: user.id.toString(),
    telegramId: user.telegramId.toString(),
    languageCode: user.languageCode,
    firstName: user.firstName,
  }));
}

/** Registered owners of the given addresses (any case), keyed by checksummed address; others are left out. */
export async function ownersOfWallets(
  prisma: PrismaClient,
  addresses: readonly string[],
): Promise<Record<string, string>> {
  const normalised = new Set<string>();
  for (const address of addresses) {
    try {
      normalised.add(normaliseAddress(address));
    } catch {
      // not an address, so nobody's wallet
    }
  }
  if (normalised.size === 0) return {};
  const users = await prisma.user.findMany({
    where: { walletAddress: { in: [...normalised] } },
    select: { id: true, walletAddress: true },
  });
  return Object.fromEntries(users.map((user) => [user.walletAddress!, user.id.toString()]));
}

export async function referralCounts(
  prisma: PrismaClient,
  userId: string,
): Promise<{ level: number; count: number }[]> {
  const groups = await prisma.referral.groupBy({
    by: ['level'],
    where: { ancestorId: BigInt(userId) },
    _count: { _all: true },
  });
  const counts = new Map(groups.map((group) => [group.level, group._count._all]));
  return REFERRAL_LEVELS.map((level) => ({ level, count: counts.get(level) ?? 0 }));
}

export async function bannedTelegramIds(prisma: PrismaClient): Promise<{ telegramId: string; version: number }[]> {
  const users = await prisma.user.findMany({
    where: { isBanned: true },
    select: { telegramId: true, banVersion: true },
  });
  return users.map((user) => ({ telegramId: user.telegramId.toString(), version: user.banVersion }));
}

/** Telegram usernames ignore case; a name can move to another account, so the most recently updated holder wins. */
export async function findByUsername(pool: pg.Pool, username: string): Promise<UserRecord | undefined> {
  const { rows } = await pool.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE lower(username) = lower($1) ORDER BY updated_at DESC, id DESC LIMIT 1`,
    [username],
  );
  return rows[0] ? toUserRecord(rows[0]) : undefined;
}
