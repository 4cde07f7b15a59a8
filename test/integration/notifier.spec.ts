// notifier on real parts: the users service beside it, PostgreSQL, Redis, NATS JetStream and the project's
// Telegram Bot API emulator. Requests arrive on the durable notifications.requested channel.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Config } from '../../services';
import { callAction, NotifierActions } from '../../lib/contracts';
import { createRedis, type Redis } from '../../lib/redis';
import { sendToChannel, startNode, type Node } from '../../lib/runtime';
import { usersService } from '../../services/users/users.service';
import { notifierService } from '../../services/notifier/notifier.service';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { channelMessages, consumerSettled } from '../support/jetstream';
import { deleteNamespaceStreams } from '../support/nats';
import { quiesce } from '../support/quiesce';
import { deleteNamespaceKeys } from '../support/redis';
import { eventually } from '../support/system';
import { TelegramEmulator, type SimulatedUser } from '../support/telegram-emulator';

const CHANNEL = 'notifications.requested';
const txHash = () => `0x${randomBytes(32).toString('hex')}`;
const uniqueId = (what: string) => `${what}:${randomBytes(6).toString('hex')}`;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ADMINS = [5_550_001, 5_550_002];

interface Recipient {
  tg: SimulatedUser;
  id: string;
}

interface Request {
  id: string;
  userId: string;
  template: string;
  params: Record<string, string | number>;
}

describe('notifier', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let redis: Redis;
  let emulator: TelegramEmulator;
  let namespace: string;
  let config: Config;
  let users: Node;
  let notifier: Node;

  before(async () => {
    db = await createTestDatabase('notify');
    redis = createRedis('redis://127.0.0.1:6379');
    emulator = new TelegramEmulator();
    await emulator.start();
    namespace = `notify-${randomBytes(4).toString('hex')}`;
    config = testConfig({
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DATABASE_URL: db.url,
      NAMESPACE: namespace,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      TELEGRAM_BOT_TOKEN: emulator.token,
      // The job's first tick is an hour away: retries run only when a test calls notifier.retryFailed.
      NOTIFICATION_RETRY_INTERVAL_MS: '3600000',
      ADMIN_TELEGRAM_IDS: ADMINS.join(','),
    });
    // Two brokers, so notifier reaches users over the NATS transporter as it does in production.
    users = await startNode(config, [usersService], { db, redis, broker: { nodeID: `${namespace}-users` } });
    notifier = await startNode(config, [notifierService], { db, redis, broker: { nodeID: `${namespace}-notifier` } });
  });

  after(async () => {
    await notifier?.stop();
    await users?.stop();
    await emulator?.stop();
    if (namespace) await deleteNamespaceKeys(redis, namespace);
    redis?.disconnect();
    await db?.drop();
    if (namespace) await deleteNamespaceStreams(namespace);
  });

  afterEach(async () => {
    // Every test leaves the consumer group settled (acked or dead-lettered), so its sends cannot leak into the next.
    await eventually(() => consumerSettled(namespace, CHANNEL, 'notifier'), 'the notifier consumer to settle');
  });

  /** A Telegram user who has started the bot (Telegram refuses bots writing first), registered with `users`. */
  async function recipient(languageCode: 'en' | 'ru', firstName = 'Test'): Promise<Recipient> {
    const tg = emulator.user({ first_name: firstName, language_code: languageCode });
    tg.sendText('/start');
    const { user } = await users.broker.call<{ user: { id: string } }, object>('users.register', {
      telegramId: String(tg.id),
      firstName,
      languageCode,
    });
    return { tg, id: user.id };
  }

  const publish = (payload: object, msgId = uniqueId('msg')) => sendToChannel(users.broker, CHANNEL, payload, msgId);

  const outgoing = async (notificationId: string) =>
    (
      await db.pool.query<{ user_id: string; chat_id: string; template: string; message_id: string }>(
        `SELECT user_id, chat_id, template, message_id FROM outgoing_messages WHERE notification_id = $1 AND status = 'sent'`,
        [notificationId],
      )
    ).rows;

  const failedRow = async (notificationId: string) =>
    (
      await db.pool.query<{
        user_id: string;
        template: string;
        params: Record<string, unknown>;
        error: string;
        attempts: number;
        status: string;
        retry_in_ms: number;
      }>(
        `SELECT user_id, template, params, error, attempts, status,
                (extract(epoch FROM next_retry_at - now()) * 1000)::float8 AS retry_in_ms
         FROM failed_notifications WHERE notification_id = $1`,
        [notificationId],
      )
    ).rows[0];

  const sendCallsTo = (tg: SimulatedUser) =>
    emulator.calls('sendMessage').filter((c) => String(c.params['chat_id']) === String(tg.id));

  it("renders the text in the recipient's language with amounts in USDT and records the send", async () => {
    const en = await recipient('en');
    const ru = await recipient('ru');
    const hash = txHash();
    const detected: Request = {
      id: uniqueId('deposit-detected'),
      userId: en.id,
      template: 'deposit.detected',
      params: { amount: '1500000000000000000', txHash: hash, confirmations: 12 },
    };
    const credited: Request = {
      id: uniqueId('deposit-credited'),
      userId: ru.id,
      template: 'deposit.credited',
      params: { amount: '2500000000000000000', level: 3 },
    };
    await publish(detected);
    await publish(credited);

    const enMessage = await en.tg.waitForMessage(/We see your deposit/);
    expect(enMessage.text).to.equal(
      `⏳ We see your deposit of 1.5 USDT (transaction ${hash}). It will be credited once it is confirmed.`,
    );
    const ruMessage = await ru.tg.waitForMessage(/зачислено/);
    expect(ruMessage.text).to.equal('✅ Ваше пополнение на 2.5 USDT зачислено. Уровень депозита: 3.');

    // Sent as HTML: the hash is a code entity, not literal tags.
    expect(enMessage.entities?.some((e) => e.type === 'code')).to.equal(true);
    expect(await eventually(async () => (await outgoing(detected.id))[0], 'the send recorded')).to.deep.equal({
      user_id: en.id,
      chat_id: String(en.tg.id),
      template: 'deposit.detected',
      message_id: String(enMessage.message_id),
    });
    expect(await eventually(async () => (await outgoing(credited.id))[0], 'the send recorded')).to.include({
      user_id: ru.id,
      chat_id: String(ru.tg.id),
      template: 'deposit.credited',
    });
  });

  it('shows at most 6 decimals, rounding down, and whole amounts without a fraction', async () => {
    const user = await recipient('en');
    await publish({
      id: uniqueId('deposit-credited'),
      userId: user.id,
      template: 'deposit.credited',
      params: { amount: '1234567891234567891', level: 1 },
    });
    expect((await user.tg.waitForMessage(/credited/)).text).to.contain('deposit of 1.234567 USDT is credited');
    await delay(1100); // Telegram's per-chat pace
    await publish({
      id: uniqueId('deposit-credited'),
      userId: user.id,
      template: 'deposit.credited',
      params: { amount: '1000000000000000000000', level: 6 },
    });
    await user.tg.waitForMessage(/deposit of 1000 USDT is credited\. Deposit level: 6\./);
  });

  it('sends a request published 5 times (different message ids) exactly once', async () => {
    const user = await recipient('en');
    const request: Request = {
      id: uniqueId('deposit-credited'),
      userId: user.id,
      template: 'deposit.credited',
      params: { amount: '10000000000000000000', level: 1 },
    };
    // A 429 keeps the first copy's send in flight for a second, so the other four certainly arrive while it
    // holds the claim (whatever the timing of their delivery); a sixth comes after the send was recorded.
    emulator.failNext('sendMessage', { error_code: 429, retry_after: 1 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => publish(request, `${request.id}:copy-${n}`)));
    await user.tg.waitForMessage(/deposit of 10 USDT is credited/);
    await eventually(() => consumerSettled(namespace, CHANNEL, 'notifier'), 'all 5 copies handled');
    await publish(request, `${request.id}:copy-6`);
    await eventually(() => consumerSettled(namespace, CHANNEL, 'notifier'), 'the late copy handled');

    expect(user.tg.messages()).to.have.length(1);
    expect(sendCallsTo(user.tg).map((c) => c.status)).to.deep.equal([429, 200]);
    expect(await outgoing(request.id)).to.have.length(1);
    expect(await failedRow(request.id)).to.equal(undefined);
  });

  it('sends a request exactly once however its redelivered copies interleave with the first send', async function () {
    this.timeout(120_000);
    const rounds = 25;
    const recipients: Recipient[] = [];
    for (let i = 0; i < rounds; i++) recipients.push(await recipient('en'));
    for (const user of recipients) {
      const request: Request = {
        id: uniqueId('deposit-credited'),
        userId: user.id,
        template: 'deposit.credited',
        params: { amount: '10000000000000000000', level: 1 },
      };
      // Copies one after the other, so some are checked while the first send is being recorded.
      for (let n = 1; n <= 40; n++) await publish(request, `${request.id}:copy-${n}`);
    }
    // 1,000 copies: on a loaded machine they take longer than quiesce's default 20 s to settle.
    await quiesce({ namespace, consumers: [[CHANNEL, 'notifier']] }, 90_000);
    expect(recipients.map((r) => r.tg.messages().length)).to.deep.equal(recipients.map(() => 1));
  });

  it('keeps a notification Telegram answered with a 5xx, and the retry job sends it once Telegram is back', async () => {
    const user = await recipient('en');
    // (A user who blocked the bot is never retried: notifier-content.spec.ts.)
    emulator.failNext('sendMessage', { error_code: 502, description: 'Bad Gateway', times: 2 });
    const request: Request = {
      id: uniqueId('deposit-credited'),
      userId: user.id,
      template: 'deposit.credited',
      params: { amount: '50000000000000000000', level: 2 },
    };
    await publish(request);

    const failed = await eventually(() => failedRow(request.id), 'the failure stored');
    expect(failed).to.include({ user_id: user.id, template: 'deposit.credited', status: 'pending', attempts: 1 });
    expect(failed.error).to.equal('502: Bad Gateway');
    expect(failed.params).to.deep.equal(request.params);
    // The first retry is a minute out.
    expect(failed.retry_in_ms).to.be.within(50_000, 61_000);
    expect(await outgoing(request.id)).to.have.length(0);
    expect(user.tg.messages()).to.have.length(0);

    // Due while Telegram still fails: counted again and backed off further, still kept.
    await db.pool.query('UPDATE failed_notifications SET next_retry_at = now() WHERE notification_id = $1', [
      request.id,
    ]);
    expect(await notifier.broker.call('notifier.retryFailed')).to.deep.equal({ due: 1, sent: 0 });
    const again = await failedRow(request.id);
    expect(again).to.include({ status: 'pending', attempts: 2 });
    expect(again!.retry_in_ms).to.be.within(110_000, 121_000);
    expect(user.tg.messages()).to.have.length(0);

    // Not yet due: the job leaves it alone.
    expect(await notifier.broker.call('notifier.retryFailed')).to.deep.equal({ due: 0, sent: 0 });
    expect(user.tg.messages()).to.have.length(0);

    await db.pool.query('UPDATE failed_notifications SET next_retry_at = now() WHERE notification_id = $1', [
      request.id,
    ]);
    expect(await notifier.broker.call('notifier.retryFailed')).to.deep.equal({ due: 1, sent: 1 });
    const message = await user.tg.waitForMessage(/deposit of 50 USDT is credited\. Deposit level: 2\./);
    expect((await failedRow(request.id))?.status).to.equal('sent');
    expect(await outgoing(request.id)).to.deep.equal([
      {
        user_id: user.id,
        chat_id: String(user.tg.id),
        template: 'deposit.credited',
        message_id: String(message.message_id),
      },
    ]);

    // A sent row is never picked again, and a redelivered request is recognised.
    expect(await notifier.broker.call('notifier.retryFailed')).to.deep.equal({ due: 0, sent: 0 });
    await publish(request);
    await eventually(() => consumerSettled(namespace, CHANNEL, 'notifier'), 'the redelivery handled');
    expect(user.tg.messages()).to.have.length(1);
  });

  it("waits out Telegram's 429 retry_after in place and still delivers", async () => {
    const user = await recipient('en');
    const request: Request = {
      id: uniqueId('deposit-credited'),
      userId: user.id,
      template: 'deposit.credited',
      params: { amount: '20000000000000000000', level: 1 },
    };
    emulator.failNext('sendMessage', { error_code: 429, retry_after: 1 });
    await publish(request);
    await user.tg.waitForMessage(/deposit of 20 USDT is credited/);

    const calls = sendCallsTo(user.tg);
    expect(calls.map((c) => c.status)).to.deep.equal([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).to.be.at.least(950);
    await eventually(async () => (await outgoing(request.id)).length === 1, 'the send recorded');
    expect(await failedRow(request.id)).to.equal(undefined);
    expect(user.tg.messages()).to.have.length(1);
  });

  it('dead-letters invalid requests without sending or crashing, and keeps delivering', async () => {
    const user = await recipient('en');
    const badUser = { id: uniqueId('bad-user'), userId: 'abc', template: 'deposit.credited', params: {} };
    const badTemplate = { id: uniqueId('bad-template'), userId: user.id, template: 'x', params: {} };
    await publish(badUser);
    await publish(badTemplate);

    const deadLetters = await eventually(async () => {
      const ids = (await channelMessages<{ id?: string }>(namespace, 'dead-letters')).map((m) => m.data.id);
      return ids.includes(badUser.id) && ids.includes(badTemplate.id) && ids;
    }, 'both invalid requests dead-lettered');
    expect(deadLetters.filter((id) => id === badUser.id || id === badTemplate.id)).to.have.length(2);

    const valid: Request = {
      id: uniqueId('deposit-credited'),
      userId: user.id,
      template: 'deposit.credited',
      params: { amount: '30000000000000000000', level: 1 },
    };
    await publish(valid);
    await user.tg.waitForMessage(/deposit of 30 USDT is credited/);
    expect(user.tg.messages()).to.have.length(1);
    for (const id of [badUser.id, badTemplate.id]) {
      expect(await outgoing(id)).to.have.length(0);
      expect(await failedRow(id)).to.equal(undefined);
    }
  });

  it("names the depositor (HTML-escaped) in a referral commission, in the recipient's language", async () => {
    const depositor = await recipient('en', 'Dave & <Co>');
    const upline = await recipient('ru', 'Ivan');
    await publish({
      id: uniqueId('commission'),
      userId: upline.id,
      template: 'referral.commission',
      params: { amount: '50000000000000000', level: 1, fromUserId: depositor.id },
    });
    const message = await upline.tg.waitForMessage(/реферального вознаграждения/);
    expect(message.text).to.equal(
      '🎉 Вы получили 0.05 USDT реферального вознаграждения (уровень 1) с пополнения пользователя Dave & <Co>.',
    );
    expect(depositor.tg.messages()).to.have.length(0);
  });

  it('sends an admin alert to every admin chat once, in their language, also when they are not registered users', async () => {
    const [en, ru] = ADMINS.map((id, i) =>
      emulator.user({ id, first_name: `Admin ${i}`, language_code: i ? 'ru' : 'en' }),
    );
    en!.sendText('/start');
    ru!.sendText('/start');
    await users.broker.call('users.register', { telegramId: String(ru!.id), firstName: 'Admin 1', languageCode: 'ru' });
    const alert = {
      id: uniqueId('deposit-reorged'),
      template: 'admin.deposit_reorged',
      params: { depositId: '12', userId: '7', amount: '2500000000000000000', txHash: txHash(), blockNumber: '99' },
    };
    await sendToChannel(users.broker, 'alerts.raised', alert, alert.id);
    await sendToChannel(users.broker, 'alerts.raised', alert, `${alert.id}:again`);
    const toEn = await en!.waitForMessage(/A credited deposit left the chain/);
    expect(toEn.text).to.contain('2.5 USDT').and.contain('user #7');
    await ru!.waitForMessage(/исчезло из блокчейна/);
    await quiesce({ namespace, consumers: [['alerts.raised', 'notifier']] });
    expect(en!.messages()).to.have.length(1);
    expect(ru!.messages()).to.have.length(1);
  });

  it('runs notification-retry as a scheduled job and reports it to operators', async () => {
    expect(await notifier.broker.call('notifier.retryFailed')).to.deep.equal({ due: 0, sent: 0 });
    const [job, ...others] = await callAction(notifier.broker, NotifierActions.jobs, {});
    expect(others).to.have.length(0);
    expect(job).to.include({ name: 'notification-retry', every: 3_600_000, lastStatus: 'ok', running: false });
    expect(job!.lastSummary).to.deep.equal({ due: 0, sent: 0 });
    expect(job!.runs).to.be.at.least(1);
    expect(Date.parse(job!.nextRunAt!)).to.be.greaterThan(Date.now());
  });

  // A second replica on the same bot, against the emulator's flood limits (30/s, 1/s per chat, 429 with
  // retry_after): the shared budget (lib/telegram-budget.ts) keeps both under them together.
  describe('with a second replica on the same bot', () => {
    let second: Node;
    before(async () => {
      second = await startNode(config, [notifierService], { db, redis, broker: { nodeID: `${namespace}-notifier-2` } });
    });
    after(async () => second?.stop());

    const credit = (userId: string, n: number): Request => ({
      id: uniqueId('deposit-credited'),
      userId,
      template: 'deposit.credited',
      params: { amount: `${n}000000000000000000`, level: 1 },
    });

    it('two replicas deliver 150 messages (30 users get two) with zero 429s, each once', async () => {
      const people: Recipient[] = [];
      for (let i = 0; i < 120; i++) people.push(await recipient('en', `R${i}`));
      const requests = [...people.map((p) => credit(p.id, 1)), ...people.slice(0, 30).map((p) => credit(p.id, 2))];
      const callsBefore = emulator.calls('sendMessage').length;
      const started = Date.now();
      await Promise.all(requests.map((r) => publish(r)));
      await eventually(
        async () => people.every((p, i) => p.tg.messages().length === (i < 30 ? 2 : 1)),
        'every message delivered',
        60_000,
      );
      const took = Date.now() - started;
      await eventually(() => consumerSettled(namespace, CHANNEL, 'notifier'), 'the notifier consumer to settle');

      const calls = emulator.calls('sendMessage').slice(callsBefore);
      expect(
        calls.filter((c) => c.status === 429),
        '429 answers from Telegram',
      ).to.have.length(0);
      expect(calls.filter((c) => c.status === 200)).to.have.length(150);
      // Together the replicas kept to about 30/s: 150 messages take at least 4 s (30 may go at once).
      expect(took).to.be.at.least(3800);
      for (const r of requests) expect(await outgoing(r.id)).to.have.length(1);
      for (const [i, p] of people.entries()) expect(p.tg.messages()).to.have.length(i < 30 ? 2 : 1);
    });

    it('a 429 pauses both replicas for its retry_after: no request during the pause, all delivered', async () => {
      const people: Recipient[] = [];
      for (let i = 0; i < 20; i++) people.push(await recipient('en', `P${i}`));
      const callsBefore = emulator.calls('sendMessage').length;
      emulator.failNext('sendMessage', { error_code: 429, retry_after: 2 });
      await Promise.all(people.map((p) => publish(credit(p.id, 3))));
      await eventually(async () => people.every((p) => p.tg.messages().length === 1), 'every message delivered');
      await eventually(() => consumerSettled(namespace, CHANNEL, 'notifier'), 'the notifier consumer to settle');

      const calls = emulator.calls('sendMessage').slice(callsBefore);
      const tooMany = calls.filter((c) => c.status === 429);
      expect(tooMany).to.have.length(1);
      const pausedAt = tooMany[0]!.at;
      // Requests already on the wire when the 429 came back may land just after it; none after that until it lapses.
      const during = calls.filter((c) => c.at > pausedAt + 100 && c.at < pausedAt + 1950);
      expect(during, 'requests during the pause').to.have.length(0);
      expect(calls.filter((c) => c.status === 200)).to.have.length(20);
    });
  });
});
