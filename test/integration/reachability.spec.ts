// Who can still be messaged, on real parts: users marks and clears the mark with its announcements (PostgreSQL,
// NATS JetStream), the bot reports activity through its Redis throttle (telegraf against the Bot API emulator), and
// admins see it with /user and /unreachable.
import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import type { Context, Errors, Middleware } from 'moleculer';
import { createBrokerOptions } from '../../moleculer.config';
import type { UserRecord } from '../../lib/contracts';
import { type Redis } from '../../lib/redis';
import { sendToChannel, startNode, type Node } from '../../lib/runtime';
import type { Config } from '../../services';
import { afterUnreachableMark, noteActivity, THROTTLE_MS } from '../../services/bot-gateway/activity';
import { botGatewayService } from '../../services/bot-gateway/bot-gateway.service';
import { gatewayKeys } from '../../services/bot-gateway/redis-keys';
import { usersService } from '../../services/users/users.service';
import { send } from '../support/bot-dialog';
import { type TestDatabase } from '../support/database';
import { channelMessages } from '../support/jetstream';
import { quiesce } from '../support/quiesce';
import { eventually } from '../support/system';
import { startTelegramBed, type TelegramBed } from '../support/telegram-bed';
import { TelegramEmulator, type SimulatedUser, type SimulatedUserOptions } from '../support/telegram-emulator';

process.env.LOG_LEVEL ??= 'warn';

const ADMIN = randomInt(100_000, 900_000);
const BLOCKED = 'Forbidden: bot was blocked by the user';

interface Announcement {
  userId: string;
  telegramId: string;
  reachable: boolean;
  reason: string | null;
  at: string;
}

interface ReachabilityRow {
  last_seen_at: Date | null;
  unreachable_at: Date | null;
  unreachable_reason: string | null;
}

describe('reachability', function () {
  this.timeout(120_000);
  let bed: TelegramBed;
  let db: TestDatabase;
  let redis: Redis;
  let emulator: TelegramEmulator;
  let config: Config;
  // users on a node of its own, so a spec can take it away from the bot.
  let usersNode: Node | undefined;
  let botNode: Node;
  let keys: ReturnType<typeof gatewayKeys>;

  /** How many users.seen calls users answered, by Telegram id: the bot's reports, counted where they land. */
  const seenCalls = new Map<string, number>();
  const countSeen: Middleware = {
    name: 'CountSeen',
    localAction(handler: (ctx: Context) => Promise<unknown>, action: { name?: string }) {
      if (action.name !== 'users.seen') return handler;
      return async (ctx: Context) => {
        try {
          return await handler(ctx);
        } finally {
          const telegramId = (ctx.params as { telegramId: string }).telegramId;
          seenCalls.set(telegramId, (seenCalls.get(telegramId) ?? 0) + 1);
        }
      };
    },
  };
  const reportsOf = (tg: SimulatedUser) => seenCalls.get(String(tg.id)) ?? 0;
  const startUsers = () =>
    startNode(config, [usersService], {
      db,
      redis,
      broker: { middlewares: [...(createBrokerOptions(config).middlewares ?? []), countSeen] },
    });

  before(async () => {
    bed = await startTelegramBed('reach', {
      emulator: { enforceLimits: false },
      env: { RATE_LIMIT_MAX_REQUESTS: '1000', ADMIN_TELEGRAM_IDS: String(ADMIN) },
    });
    ({ db, redis, emulator, config } = bed);
    keys = gatewayKeys(config.NAMESPACE, config.TELEGRAM_BOT_TOKEN);
    usersNode = await startUsers();
    botNode = await startNode(config, [botGatewayService], { db, redis });
  });

  after(async () => {
    await botNode?.stop();
    await usersNode?.stop();
    await bed?.stop();
  });

  const call = <T>(action: string, params: object) => botNode.broker.call<T, object>(`users.${action}`, params);
  const user = (options: SimulatedUserOptions = {}) => emulator.user({ language_code: 'en', ...options });

  const settle = () =>
    quiesce({
      pool: db.pool,
      outboxes: ['users_outbox'],
      namespace: config.NAMESPACE,
      consumers: [['users.reachability-changed', 'bot-gateway']],
      emulator,
    });

  const rowOf = async (telegramId: number | string): Promise<ReachabilityRow> => {
    const { rows } = await db.pool.query<ReachabilityRow>(
      'SELECT last_seen_at, unreachable_at, unreachable_reason FROM users WHERE telegram_id = $1',
      [telegramId],
    );
    expect(rows, `a users row for ${telegramId}`).to.have.length(1);
    return rows[0]!;
  };

  const announcementsOf = async (userId: string): Promise<Announcement[]> =>
    (await channelMessages<Announcement>(config.NAMESPACE, 'users.reachability-changed'))
      .map((m) => m.data)
      .filter((m) => m.userId === userId);

  const register = async (telegramId: string) =>
    (await call<{ user: UserRecord }>('register', { telegramId, firstName: 'Reg' })).user;

  const rejection = async (promise: Promise<unknown>): Promise<Errors.MoleculerError> => {
    try {
      await promise;
    } catch (error) {
      return error as Errors.MoleculerError;
    }
    throw new Error('expected a refusal');
  };

  /** A user who wrote /start through the bot: registered, reported (the report landed) and inside the throttle window. */
  async function activeUser(options: SimulatedUserOptions = {}): Promise<{ tg: SimulatedUser; id: string }> {
    const tg = user(options);
    await send(tg, '/start', /Welcome/);
    await eventually(async () => reportsOf(tg) === 1, "the /start's activity report");
    const record = await call<UserRecord>('byTelegramId', { telegramId: String(tg.id) });
    return { tg, id: record.id };
  }

  describe('in users', () => {
    it('marks a user unreachable once and announces it once; seen clears the mark and announces that once', async () => {
      const telegramId = String(randomInt(1_000_000, 2_000_000_000));
      const registered = await register(telegramId);
      expect(registered).to.include({ unreachableAt: null, unreachableReason: null });
      expect(registered.lastSeenAt, 'registering counts as being seen').to.be.a('string');

      expect(await call('markUnreachable', { telegramId, reason: BLOCKED })).to.deep.equal({ marked: true });
      expect(await call('markUnreachable', { telegramId, reason: 'Bad Request: chat not found' })).to.deep.equal({
        marked: false,
      });
      const marked = await call<UserRecord>('byTelegramId', { telegramId });
      expect(marked.unreachableReason, 'the first reason stays').to.equal(BLOCKED);
      expect(Date.parse(marked.unreachableAt!)).to.be.closeTo(Date.now(), 60_000);

      expect(await call('seen', { telegramId })).to.deep.equal({ reachableAgain: true });
      expect(await call('seen', { telegramId })).to.deep.equal({ reachableAgain: false });
      const cleared = await call<UserRecord>('byTelegramId', { telegramId });
      expect(cleared).to.include({ unreachableAt: null, unreachableReason: null });
      expect(Date.parse(cleared.lastSeenAt!)).to.be.at.least(Date.parse(marked.unreachableAt!));

      await settle();
      const announced = await announcementsOf(registered.id);
      expect(announced.map((m) => [m.telegramId, m.reachable, m.reason])).to.deep.equal([
        [telegramId, false, BLOCKED],
        [telegramId, true, null],
      ]);
      expect(announced[0]!.at).to.equal(marked.unreachableAt);
      expect(Date.parse(announced[1]!.at)).to.be.at.least(Date.parse(announced[0]!.at));
    });

    it('answers marked false for an unknown Telegram id and refuses malformed input, changing nothing', async () => {
      const unknown = String(randomInt(2_000_000_000, 2_100_000_000));
      expect(await call('markUnreachable', { telegramId: unknown, reason: BLOCKED })).to.deep.equal({ marked: false });
      expect(await call('seen', { telegramId: unknown })).to.deep.equal({ reachableAgain: false });

      const telegramId = String(randomInt(1_000_000, 2_000_000_000));
      const registered = await register(telegramId);
      const before = await rowOf(telegramId);
      for (const params of [
        { telegramId: '12ab', reason: BLOCKED },
        { telegramId: '-5', reason: BLOCKED },
        { telegramId, reason: '' },
        { telegramId, reason: 'x'.repeat(301) },
        { telegramId: Number(telegramId), reason: BLOCKED },
      ]) {
        const error = await rejection(call('markUnreachable', params));
        expect(error.type, JSON.stringify(params)).to.equal('VALIDATION_ERROR');
      }
      expect((await rejection(call('seen', { telegramId: 'me' }))).type).to.equal('VALIDATION_ERROR');
      expect((await rejection(call('unreachableSummary', { limit: 0 }))).type).to.equal('VALIDATION_ERROR');
      expect((await rejection(call('byUsername', { username: 'not a name' }))).type).to.equal('VALIDATION_ERROR');

      expect(await rowOf(telegramId)).to.deep.equal(before);
      await settle();
      expect(await announcementsOf(registered.id)).to.deep.equal([]);
    });
  });

  describe("the bot's activity throttle (Redis)", () => {
    it('reports once per window, keeps the latest unreported update, and reports it when a mark comes after it', async () => {
      const telegramId = String(randomInt(1_000_000, 2_000_000_000));
      const t0 = Date.now();
      expect(await noteActivity(redis, keys, telegramId, t0)).to.equal(true);
      expect(await noteActivity(redis, keys, telegramId, t0 + 1000)).to.equal(false);
      expect(await noteActivity(redis, keys, telegramId, t0 + 2000)).to.equal(false);
      const ttl = await redis.pttl(keys.seen(telegramId));
      expect(ttl, 'the window is not extended by updates inside it').to.be.within(1, THROTTLE_MS);

      // A mark after the latest kept update: nothing to report, but the throttle is gone.
      let reports = 0;
      const report = async () => void reports++;
      expect(await afterUnreachableMark(redis, keys, telegramId, new Date(t0 + 60_000), report)).to.equal(false);
      expect(reports).to.equal(0);
      expect(await redis.exists(keys.seen(telegramId))).to.equal(0);

      // An update after the mark that arrived before its announcement is reported when the announcement comes.
      expect(await noteActivity(redis, keys, telegramId, t0 + 3000)).to.equal(true);
      expect(await noteActivity(redis, keys, telegramId, t0 + 70_000)).to.equal(false);
      expect(await afterUnreachableMark(redis, keys, telegramId, new Date(t0 + 60_000), report)).to.equal(true);
      expect(reports).to.equal(1);

      // A report that fails leaves the key for the announcement's redelivery.
      expect(await noteActivity(redis, keys, telegramId, t0 + 4000)).to.equal(true);
      expect(await noteActivity(redis, keys, telegramId, t0 + 80_000)).to.equal(false);
      const failing = () => Promise.reject(new Error('users is away'));
      const error = await afterUnreachableMark(redis, keys, telegramId, new Date(t0 + 60_000), failing).catch(
        (e: Error) => e,
      );
      expect(error).to.be.instanceOf(Error);
      expect(await redis.get(keys.seen(telegramId))).to.equal(String(t0 + 80_000));
      expect(await afterUnreachableMark(redis, keys, telegramId, new Date(t0 + 60_000), report)).to.equal(true);
      expect(reports).to.equal(2);
    });
  });

  describe('through the bot', () => {
    it('moves last_seen_at once per throttle window', async () => {
      const { tg } = await activeUser();
      expect(await redis.pttl(keys.seen(tg.id))).to.be.within(1, THROTTLE_MS);
      await db.pool.query("UPDATE users SET last_seen_at = now() - interval '1 day' WHERE telegram_id = $1", [tg.id]);
      const dayAgo = (await rowOf(tg.id)).last_seen_at!;

      // Inside the window nothing is reported (the throttle is checked before the update is handled).
      await send(tg, '/help', /SigmaTrade|help/i);
      await settle();
      expect(reportsOf(tg)).to.equal(1);
      expect((await rowOf(tg.id)).last_seen_at).to.deep.equal(dayAgo);

      // The window ends: the next update moves it.
      await redis.del(keys.seen(tg.id));
      const before = Date.now();
      await send(tg, '/help', /SigmaTrade|help/i);
      const moved = await eventually(async () => {
        const seen = (await rowOf(tg.id)).last_seen_at!;
        return seen.getTime() > dayAgo.getTime() && seen;
      }, 'last_seen_at to move');
      expect(moved.getTime()).to.be.closeTo(before, 60_000);
      expect(reportsOf(tg)).to.equal(2);
    });

    it('makes a user marked unreachable reachable again on their next message, inside the throttle window', async () => {
      const { tg, id } = await activeUser();
      expect(await redis.pttl(keys.seen(tg.id)), 'inside the throttle window').to.be.within(1, THROTTLE_MS);
      expect(await call('markUnreachable', { telegramId: String(tg.id), reason: BLOCKED })).to.deep.equal({
        marked: true,
      });
      expect((await rowOf(tg.id)).unreachable_reason).to.equal(BLOCKED);

      // At once, whether the mark's announcement reached the bot before this message or not.
      await send(tg, 'hello again');
      await eventually(async () => (await rowOf(tg.id)).unreachable_at === null, 'the mark to be cleared');
      await settle();
      expect((await announcementsOf(id)).map((m) => m.reachable)).to.deep.equal([false, true]);

      // A button press counts too.
      expect(await call('markUnreachable', { telegramId: String(tg.id), reason: BLOCKED })).to.deep.equal({
        marked: true,
      });
      await settle();
      const menu = await send(tg, '/start', /Welcome back/);
      await eventually(async () => (await rowOf(tg.id)).unreachable_at === null, 'the mark to be cleared');
      expect(await call('markUnreachable', { telegramId: String(tg.id), reason: BLOCKED })).to.deep.equal({
        marked: true,
      });
      tg.pressButton(menu, 'menu:help');
      await eventually(async () => (await rowOf(tg.id)).unreachable_at === null, 'the mark to be cleared by a press');
      await settle();
      expect((await announcementsOf(id)).map((m) => m.reachable)).to.deep.equal([
        false,
        true,
        false,
        true,
        false,
        true,
      ]);
    });
    it('reports a message that came after a mark but before its announcement once the announcement arrives', async () => {
      const { tg, id } = await activeUser();
      // The mark is committed; its announcement is late (here: sent by hand below).
      const { rows } = await db.pool.query<{ at: Date }>(
        `UPDATE users SET unreachable_at = now(), unreachable_reason = $2 WHERE telegram_id = $1
         RETURNING unreachable_at AS at`,
        [tg.id, BLOCKED],
      );
      await send(tg, 'I am back');
      await settle();
      expect(reportsOf(tg), 'inside the throttle window').to.equal(1);
      expect((await rowOf(tg.id)).unreachable_at).to.not.equal(null);

      await sendToChannel(botNode.broker, 'users.reachability-changed', {
        id: `late-${tg.id}`,
        userId: id,
        telegramId: String(tg.id),
        reachable: false,
        reason: BLOCKED,
        at: rows[0]!.at.toISOString(),
      });
      await eventually(async () => (await rowOf(tg.id)).unreachable_at === null, 'the mark to be cleared');
      expect(reportsOf(tg)).to.equal(2);
      expect(await redis.exists(keys.seen(tg.id)), 'the throttle is gone').to.equal(0);
    });
  });

  describe('for admins', () => {
    let admin: SimulatedUser;

    before(async () => {
      admin = user({ id: ADMIN, first_name: 'Ada' });
      await send(admin, '/start', /Welcome/);
    });

    it('/user shows a user by Telegram id or @username, with their reachability and last visit', async () => {
      const name = `Reach_${randomInt(100_000, 999_999)}`;
      const { tg, id } = await activeUser({ first_name: 'Rita', username: name });

      const reachable = await send(admin, `/user ${tg.id}`, /User #/);
      expect(reachable.text).to.contain(`User #${id}`).and.contain(`Telegram id: ${tg.id}`);
      expect(reachable.text).to.contain(`Username: @${name}`).and.contain('Name: Rita');
      expect(reachable.text).to.contain('Reachability: ✅ messages reach them');
      expect(reachable.text).to.match(/Last seen: \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      expect(reachable.text).to.contain('Wallet: not registered').and.contain('Banned: no');

      await call('markUnreachable', { telegramId: String(tg.id), reason: BLOCKED });
      const since = (await rowOf(tg.id)).unreachable_at!.toISOString().slice(0, 16).replace('T', ' ');
      const byName = await send(admin, `/user @${name.toLowerCase()}`, /User #/);
      expect(byName.text).to.contain(`User #${id}`);
      expect(byName.text).to.contain(`Reachability: 🚫 unreachable since ${since} UTC (${BLOCKED})`);
      expect((await send(admin, `/user ${name.toUpperCase()}`, /User #/)).text).to.contain(`User #${id}`);
    });

    it('/unreachable counts the unreachable users and lists the most recent', async () => {
      const { tg, id } = await activeUser({ first_name: 'Uma' });
      await call('markUnreachable', { telegramId: String(tg.id), reason: 'Bad Request: chat not found' });
      const { rows } = await db.pool.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM users WHERE unreachable_at IS NOT NULL',
      );
      const list = await send(admin, '/unreachable', /Unreachable users/);
      expect(list.text).to.contain(`Unreachable users: ${rows[0]!.n}`);
      const lines = list.text.split('\n').filter((line) => line.startsWith('•'));
      expect(lines[0], 'the newest first').to.contain(
        `user #${id} Uma (Telegram ${tg.id}): Bad Request: chat not found`,
      );

      await db.pool.query('UPDATE users SET unreachable_at = NULL, unreachable_reason = NULL');
      expect((await send(admin, '/unreachable', /unreachable/i)).text).to.equal(
        '✅ No user is unreachable: messages reach everyone.',
      );
    });

    it('answers bad input clearly and changes nothing', async () => {
      const { tg } = await activeUser();
      await call('markUnreachable', { telegramId: String(tg.id), reason: BLOCKED });
      await settle();
      const before = await db.pool.query('SELECT * FROM users ORDER BY id');
      const usage = /^Usage: \/user <Telegram id> or \/user @username/;
      for (const bad of [
        '/user',
        '/user 12ab',
        '/user -5',
        '/user 99999999999999999999',
        '/user 9999999999999999999',
      ]) {
        expect((await send(admin, bad)).text, bad).to.match(usage);
      }
      expect((await send(admin, '/user 424242424')).text).to.equal('❌ There is no registered user 424242424.');
      expect((await send(admin, '/user @nobody_here_at_all')).text).to.equal(
        '❌ There is no registered user @nobody_here_at_all.',
      );
      expect((await send(admin, '/unreachable all of them')).text).to.match(/^Usage: \/unreachable, without arguments/);
      await settle();
      const after = await db.pool.query('SELECT * FROM users ORDER BY id');
      // Only the admin's own visit may have moved (they wrote to the bot).
      const withoutAdmin = (rows: Record<string, unknown>[]) =>
        rows.filter((r) => String(r['telegram_id']) !== String(ADMIN));
      expect(withoutAdmin(after.rows)).to.deep.equal(withoutAdmin(before.rows));
    });

    it('is an unknown command for anyone else', async () => {
      const { tg } = await activeUser();
      expect((await send(tg, `/user ${ADMIN}`)).text).to.match(/^I don't know the command \/user\./);
      expect((await send(tg, '/unreachable')).text).to.match(/^I don't know the command \/unreachable\./);
    });
  });

  describe('while users is away', () => {
    it('the bot still handles updates, and reports again once users is back', async () => {
      const { tg } = await activeUser();
      await call('markUnreachable', { telegramId: String(tg.id), reason: BLOCKED });
      await settle();
      await usersNode!.stop();
      usersNode = undefined;
      // /help needs nothing from users: it is answered although the activity report fails.
      expect((await send(tg, '/help')).text).to.match(/help|SigmaTrade/i);
      expect((await send(tg, '/help')).text).to.match(/help|SigmaTrade/i);

      usersNode = await startUsers();
      await botNode.broker.waitForServices(['users'], 20_000);
      expect((await rowOf(tg.id)).unreachable_at, 'nothing reached users meanwhile').to.not.equal(null);
      // A failed report does not hold the throttle: the next update reports.
      await send(tg, '/help');
      await eventually(async () => (await rowOf(tg.id)).unreachable_at === null, 'the mark to be cleared');
    });
  });
});
