// broadcaster on real parts: users and ledger beside it (audiences, depositors), PostgreSQL, Redis, NATS
// JetStream, and the Bot API emulator whose record shows what every recipient got. Each test gives its users a
// language code of its own, so an audience "by language" keeps the tests apart.
import { expect } from 'chai';
import type { Config } from '../../services';
import {
  BroadcasterActions,
  callAction,
  UsersActions,
  type AuditEntry,
  type MessageContent,
} from '../../lib/contracts';
import { type Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { broadcasterService } from '../../services/broadcaster/broadcaster.service';
import { ledgerService } from '../../services/ledger/ledger.service';
import { usersService } from '../../services/users/users.service';
import {
  auditProbe,
  recipientStatuses,
  registerAudience,
  statusCounts,
  type AudienceMember,
} from '../support/broadcast';
import { testConfig } from '../support/config';
import { type TestDatabase } from '../support/database';
import { creditTestDeposit } from '../support/deposits';
import { eventually } from '../support/system';
import { startTelegramBed, type TelegramBed } from '../support/telegram-bed';
import { TelegramEmulator, type SimulatedUser } from '../support/telegram-emulator';

const ADMIN_ID = 5_560_001;
/** An admin whose Telegram language is Russian: their progress message and report are in Russian. */
const RU_ADMIN_ID = 5_560_002;

describe('broadcaster', function () {
  this.timeout(120_000);
  let bed: TelegramBed;
  let db: TestDatabase;
  let redis: Redis;
  let emulator: TelegramEmulator;
  let namespace: string;
  let config: Config;
  let overrides: Record<string, string>;
  let users: Node;
  let broadcaster: Node;
  let probe: Node;
  let admin: SimulatedUser;
  const audit: AuditEntry[] = [];
  let language = 0;
  /** A language code of the test's own: "qa", "qb", … */
  const nextLanguage = () => `q${String.fromCharCode(97 + language++)}`;

  before(async () => {
    bed = await startTelegramBed('broadcast', {
      env: {
        ADMIN_TELEGRAM_IDS: `${ADMIN_ID},${RU_ADMIN_ID}`,
        BROADCAST_CONCURRENCY: '5',
        BROADCAST_REQUEST_TIMEOUT_MS: '1500',
      },
    });
    ({ db, redis, emulator, namespace, config, env: overrides } = bed);
    admin = emulator.user({ id: ADMIN_ID, first_name: 'Admin' });
    admin.sendText('/start');
    emulator.user({ id: RU_ADMIN_ID, first_name: 'Админ', language_code: 'ru' }).sendText('/start');
    await db.pool.query(
      `INSERT INTO users (telegram_id, first_name, language_code, referral_code) VALUES ($1, 'Админ', 'ru', 'bruadmin')`,
      [RU_ADMIN_ID],
    );
    users = await startNode(config, [usersService, ledgerService], { db, redis, broker: { nodeID: `${namespace}-u` } });
    broadcaster = await startNode(config, [broadcasterService], { db, redis, broker: { nodeID: `${namespace}-b` } });
    probe = await startNode(config, [auditProbe(audit)], { db, redis, broker: { nodeID: `${namespace}-a` } });
    await users.broker.waitForServices(['broadcaster'], 10_000);
  });

  after(async () => {
    await probe?.stop();
    await broadcaster?.stop();
    await users?.stop();
    await bed?.stop();
  });

  const call = <C extends (typeof BroadcasterActions)[keyof typeof BroadcasterActions]>(
    contract: C,
    params: Parameters<typeof callAction<C>>[2],
  ) => callAction(users.broker, contract, params, { timeout: 30_000 });

  const actor = String(ADMIN_ID);

  async function campaign(content: MessageContent, lang: string) {
    const draft = await call(BroadcasterActions.create, {
      actor,
      content,
      audience: { kind: 'language', language: lang },
    });
    expect(draft.status).to.equal('draft');
    return draft.campaignId;
  }

  const finished = (campaignId: string, timeoutMs = 60_000) =>
    eventually(
      async () => {
        const p = await call(BroadcasterActions.progress, { campaignId });
        return p.status === 'finished' && p;
      },
      `broadcast #${campaignId} to finish`,
      timeoutMs,
    );

  /** A file_id the emulator knows: the admin sends the bot a medium, as an admin composing a broadcast does. */
  function fileId(kind: 'photo' | 'video' | 'audio' | 'voice' | 'document'): string {
    const message = admin.sendMedia(kind) as unknown as Record<string, unknown>;
    const photo = message.photo as { file_id: string }[] | undefined;
    return photo ? photo.at(-1)!.file_id : (message[kind] as { file_id: string }).file_id;
  }

  const received = (member: AudienceMember, campaignStartCount: number) =>
    member.tg.messages().slice(campaignStartCount);

  it('sends every content kind to every recipient once, by file_id, without an upload', async () => {
    const photo = fileId('photo');
    const video = fileId('video');
    const contents: MessageContent[] = [
      { kind: 'text', text: '<b>Hello</b> everyone', buttons: [[{ text: 'Site', url: 'https://example.com' }]] },
      { kind: 'photo', media: { fileId: photo }, caption: 'a <i>photo</i>' },
      { kind: 'voice', media: { fileId: fileId('voice') } },
      { kind: 'audio', media: { fileId: fileId('audio') }, caption: 'audio' },
      { kind: 'document', media: { fileId: fileId('document') }, caption: 'doc' },
      { kind: 'video', media: { fileId: video }, caption: 'video' },
      {
        kind: 'album',
        items: [
          { kind: 'photo', media: { fileId: photo }, caption: 'first' },
          { kind: 'video', media: { fileId: video } },
        ],
      },
    ];
    const uploadsBefore = emulator.uploads().length;
    for (const content of contents) {
      const lang = nextLanguage();
      const members = await registerAudience(emulator, db.pool, 3, lang);
      const campaignId = await campaign(content, lang);
      const started = await call(BroadcasterActions.start, { actor, campaignId });
      expect(started.status).to.equal('running');
      const done = await finished(campaignId);
      expect(done, content.kind).to.include({ total: 3, sent: 3, failed: 0, blocked: 0, ambiguous: 0 });
      for (const member of members) {
        const got = received(member, 0);
        if (content.kind === 'album') {
          expect(got.map((m) => m.media?.kind)).to.deep.equal(['photo', 'video']);
          expect(got[0]!.media_group_id).to.be.a('string').and.equal(got[1]!.media_group_id);
          expect(got[0]!.text).to.equal('first');
        } else if (content.kind === 'text') {
          expect(got).to.have.length(1);
          expect(got[0]!.text).to.equal('Hello everyone');
          expect(got[0]!.reply_markup).to.deep.include({
            inline_keyboard: [[{ text: 'Site', url: 'https://example.com' }]],
          });
        } else {
          expect(got, content.kind).to.have.length(1);
          expect(got[0]!.media?.kind).to.equal(content.kind);
          expect(got[0]!.media?.file_id).to.equal((content.media as { fileId: string }).fileId);
        }
      }
    }
    expect(emulator.uploads().length, 'uploads').to.equal(uploadsBefore);
  });

  it('shows the admin one live progress message with buttons and edits it into the final report', async () => {
    const lang = nextLanguage();
    await registerAudience(emulator, db.pool, 4, lang);
    const campaignId = await campaign({ kind: 'text', text: 'progress' }, lang);
    await call(BroadcasterActions.start, { actor, campaignId });
    await finished(campaignId);
    const report = await admin.waitForMessage(new RegExp(`Broadcast #${campaignId} finished`), 30_000);
    expect(report.text).to.match(/Sent: 4/);
    const mine = admin.messages().filter((m) => m.text.includes(`#${campaignId}`));
    expect(mine, 'one progress message, edited').to.have.length(1);
    const progress = await call(BroadcasterActions.progress, { campaignId });
    expect(progress).to.include({ status: 'finished', total: 4, sent: 4, etaSeconds: 0 });
    const [latest] = await call(BroadcasterActions.list, { limit: 3 });
    expect(latest).to.deep.equal(progress);
  });

  it('pauses, resumes and cancels, refusing actions the state does not allow', async () => {
    const lang = nextLanguage();
    const members = await registerAudience(emulator, db.pool, 60, lang);
    const campaignId = await campaign({ kind: 'text', text: 'paced' }, lang);
    await call(BroadcasterActions.start, { actor, campaignId });
    await eventually(async () => (await statusCounts(db.pool, campaignId)).sent! >= 5, 'some sends');
    const paused = await call(BroadcasterActions.pause, { actor, campaignId });
    expect(paused.status).to.equal('paused');
    // In-flight sends finish; nothing new leaves after that.
    await eventually(async () => !(await statusCounts(db.pool, campaignId)).sending, 'in-flight sends to settle');
    const paced = () => emulator.sentMessages().filter((m) => m.text === 'paced').length;
    const sentAtPause = paced();
    expect(sentAtPause).to.be.below(60);
    await expectRefused(BroadcasterActions.pause, campaignId, 'BROADCAST_WRONG_STATE');
    // The admin's progress message shows the pause, with the buttons bot-gateway answers.
    const shown = await admin.waitForMessage(
      (m) => m.text.includes(`#${campaignId}`) && m.text.includes('paused'),
      20_000,
    );
    // Nothing is claimed any more, and a claim needs a running campaign: still nothing sent while paused.
    expect(paced(), 'sends while paused').to.equal(sentAtPause);
    const callbacks = (shown.reply_markup as { inline_keyboard: { callback_data?: string }[][] }).inline_keyboard
      .flat()
      .map((b) => b.callback_data);
    expect(callbacks).to.deep.equal([`bc:resume:${campaignId}`, `bc:cancel:${campaignId}`]);

    await call(BroadcasterActions.resume, { actor, campaignId });
    await finished(campaignId);
    for (const m of members) expect(m.tg.messages().filter((x) => x.text === 'paced')).to.have.length(1);
    await expectRefused(BroadcasterActions.resume, campaignId, 'BROADCAST_WRONG_STATE');
    await expectRefused(BroadcasterActions.cancel, campaignId, 'BROADCAST_WRONG_STATE');

    // Cancelled mid-way: the rest is never sent, and the report says so.
    const lang2 = nextLanguage();
    const more = await registerAudience(emulator, db.pool, 80, lang2);
    const second = await campaign({ kind: 'text', text: 'cut short' }, lang2);
    await call(BroadcasterActions.start, { actor, campaignId: second });
    await eventually(async () => (await statusCounts(db.pool, second)).sent! >= 3, 'some sends');
    expect((await call(BroadcasterActions.cancel, { actor, campaignId: second })).status).to.equal('cancelled');
    await admin.waitForMessage(new RegExp(`Broadcast #${second} cancelled`), 30_000);
    const counts = await statusCounts(db.pool, second);
    const got = more.filter((m) => m.tg.messages().some((x) => x.text === 'cut short')).length;
    expect(got).to.equal(counts.sent).and.be.below(80);
    await eventually(async () => !(await statusCounts(db.pool, second)).sending, 'in-flight sends to settle');
    expect(more.filter((m) => m.tg.messages().some((x) => x.text === 'cut short')).length).to.equal(got);
    await expectRefused(BroadcasterActions.start, second, 'BROADCAST_WRONG_STATE');
  });

  async function expectRefused(
    contract: typeof BroadcasterActions.start,
    campaignId: string,
    code: string,
    who = actor,
  ): Promise<void> {
    try {
      await call(contract, { actor: who, campaignId });
    } catch (error) {
      expect((error as { type?: string }).type).to.equal(code);
      return;
    }
    expect.fail(`${contract.name} #${campaignId} was not refused`);
  }

  it('refuses non-admins, paid broadcasts while they are off, and unknown campaigns', async () => {
    const lang = nextLanguage();
    const campaignId = await campaign({ kind: 'text', text: 'x' }, lang);
    const stranger = '777000111';
    try {
      await call(BroadcasterActions.create, {
        actor: stranger,
        content: { kind: 'text', text: 'spam' },
        audience: { kind: 'all' },
      });
      expect.fail('a non-admin created a broadcast');
    } catch (error) {
      expect((error as { type?: string }).type).to.equal('NOT_ADMIN');
    }
    await expectRefused(BroadcasterActions.start, campaignId, 'NOT_ADMIN', stranger);
    expect((await call(BroadcasterActions.progress, { campaignId })).status).to.equal('draft');
    try {
      await call(BroadcasterActions.create, {
        actor,
        content: { kind: 'text', text: 'paid' },
        audience: { kind: 'all' },
        paid: true,
      });
      expect.fail('a paid broadcast was created with BROADCAST_PAID_RATE=0');
    } catch (error) {
      expect((error as { type?: string }).type).to.equal('PAID_BROADCAST_OFF');
    }
    await expectRefused(BroadcasterActions.start, '999999', 'BROADCAST_NOT_FOUND');
  });

  it('marks users who blocked the bot or were deleted as blocked, and sends everyone else', async () => {
    const lang = nextLanguage();
    const members = await registerAudience(emulator, db.pool, 5, lang);
    members[0]!.tg.blockBot();
    members[1]!.tg.deactivate();
    const campaignId = await campaign({ kind: 'text', text: 'reach' }, lang);
    await call(BroadcasterActions.start, { actor, campaignId });
    const done = await finished(campaignId);
    expect(done).to.include({ sent: 3, blocked: 2, failed: 0 });
    const statuses = await recipientStatuses(db.pool, campaignId);
    expect(statuses.get(members[0]!.telegramId)).to.equal('blocked');
    expect(statuses.get(members[1]!.telegramId)).to.equal('blocked');
    const { rows } = await db.pool.query<{ last_error: string }>(
      'SELECT last_error FROM broadcast_recipients WHERE broadcast_id = $1 AND status = $2 ORDER BY user_id',
      [campaignId, 'blocked'],
    );
    expect(rows.map((r) => r.last_error)).to.deep.equal([
      '403: Forbidden: bot was blocked by the user',
      '403: Forbidden: user is deactivated',
    ]);
    // users marks them unreachable (users.markUnreachable), and the next campaign skips them.
    await eventually(async () => {
      const { rows: owed } = await db.pool.query(
        'SELECT 1 FROM broadcast_recipients WHERE broadcast_id = $1 AND unreachable_pending',
        [campaignId],
      );
      return owed.length === 0;
    }, 'blocked users to be marked unreachable');
    const { rows: unreachable } = await db.pool.query<{ telegram_id: string }>(
      'SELECT telegram_id::text FROM users WHERE unreachable_at IS NOT NULL AND telegram_id = ANY($1::bigint[])',
      [[members[0]!.telegramId, members[1]!.telegramId]],
    );
    expect(unreachable).to.have.length(2);
    const next = await campaign({ kind: 'text', text: 'again' }, lang);
    await call(BroadcasterActions.start, { actor, campaignId: next });
    expect(await finished(next)).to.include({ total: 3, sent: 3, blocked: 0 });
  });

  it('takes an unanswered request as ambiguous and never sends it again', async () => {
    const lang = nextLanguage();
    const members = await registerAudience(emulator, db.pool, 3, lang);
    const photo = fileId('photo');
    const campaignId = await campaign({ kind: 'photo', media: { fileId: photo }, caption: 'once' }, lang);
    emulator.withholdAnswers('sendPhoto', 1);
    await call(BroadcasterActions.start, { actor, campaignId });
    expect(await finished(campaignId)).to.include({ total: 3, sent: 2, ambiguous: 1 });
    // Telegram did deliver the one whose answer was lost; it is not sent a second time (a finished campaign has no
    // recipient pending or in flight, so nothing can send it later).
    for (const m of members) expect(m.tg.messages().filter((x) => x.text === 'once')).to.have.length(1);
    const { rows } = await db.pool.query<{ last_error: string }>(
      `SELECT last_error FROM broadcast_recipients WHERE broadcast_id = $1 AND status = 'ambiguous'`,
      [campaignId],
    );
    expect(rows[0]!.last_error).to.match(/ETIMEDOUT/);
  });

  it('chooses audiences: active within N days, depositors, a language; preview counts them and sends the draft', async () => {
    const lang = nextLanguage();
    const members = await registerAudience(emulator, db.pool, 6, lang);
    await db.pool.query(`UPDATE users SET last_seen_at = now() - interval '2 days' WHERE id = ANY($1::bigint[])`, [
      members.slice(0, 2).map((m) => m.userId),
    ]);
    await db.pool.query(`UPDATE users SET last_seen_at = now() - interval '20 days' WHERE id = $1`, [
      members[2]!.userId,
    ]);
    await creditTestDeposit(db.pool, members[3]!.userId, 10n ** 18n);
    await creditTestDeposit(db.pool, members[4]!.userId, 10n ** 18n);
    await creditTestDeposit(db.pool, members[4]!.userId, 10n ** 18n);
    const { count } = await callAction(users.broker, UsersActions.audienceSize, { language: lang });
    expect(count).to.equal(6);
    // Banned and unreachable users are in no audience.
    const [banned, gone] = await registerAudience(emulator, db.pool, 2, lang);
    await db.pool.query('UPDATE users SET is_banned = true WHERE id = $1', [banned!.userId]);
    await db.pool.query(`UPDATE users SET unreachable_at = now(), unreachable_reason = 'test' WHERE id = $1`, [
      gone!.userId,
    ]);
    expect((await callAction(users.broker, UsersActions.audienceSize, { language: lang })).count).to.equal(6);
    const page = await callAction(users.broker, UsersActions.audience, { language: lang, limit: 4 });
    expect(page.recipients.map((r) => r.userId)).to.deep.equal(members.slice(0, 4).map((m) => m.userId));
    const rest = await callAction(users.broker, UsersActions.audience, {
      language: lang,
      limit: 4,
      afterUserId: page.next!,
    });
    expect(rest.recipients.map((r) => r.userId)).to.deep.equal(members.slice(4).map((m) => m.userId));
    expect(rest.next).to.equal(null);

    const active = await call(BroadcasterActions.create, {
      actor,
      content: { kind: 'text', text: 'active ones' },
      audience: { kind: 'active', days: 7 },
    });
    const preview = await call(BroadcasterActions.preview, { actor, campaignId: active.campaignId });
    // Every test user seen within 7 days: the two here (others in this database were never seen).
    expect(preview.recipients).to.equal(2);
    await admin.waitForMessage((m) => m.text === 'active ones');
    expect(
      admin.messages().filter((m) => m.text === 'active ones'),
      'previews',
    ).to.have.length(1);
    await call(BroadcasterActions.start, { actor, campaignId: active.campaignId });
    await finished(active.campaignId);
    expect([...(await recipientStatuses(db.pool, active.campaignId)).keys()].sort()).to.deep.equal(
      members
        .slice(0, 2)
        .map((m) => m.telegramId)
        .sort(),
    );

    const depositors = await call(BroadcasterActions.create, {
      actor,
      content: { kind: 'text', text: 'depositors' },
      audience: { kind: 'depositors' },
    });
    expect((await call(BroadcasterActions.preview, { actor, campaignId: depositors.campaignId })).recipients).to.equal(
      2,
    );
    await call(BroadcasterActions.start, { actor, campaignId: depositors.campaignId });
    await finished(depositors.campaignId);
    expect([...(await recipientStatuses(db.pool, depositors.campaignId)).keys()].sort()).to.deep.equal(
      [members[3]!.telegramId, members[4]!.telegramId].sort(),
    );
    expect(members[4]!.tg.messages().filter((m) => m.text === 'depositors')).to.have.length(1);
  });

  it('publishes start, pause, resume, cancel and finish on the audit channel with actor, target and time', async () => {
    const lang = nextLanguage();
    await registerAudience(emulator, db.pool, 2, lang);
    const campaignId = await campaign({ kind: 'text', text: 'audited' }, lang);
    await call(BroadcasterActions.start, { actor, campaignId });
    await finished(campaignId);
    // Sixty recipients take seconds at the bot's rate: pause, resume and cancel land while it runs.
    const lang2 = nextLanguage();
    await registerAudience(emulator, db.pool, 60, lang2);
    const cancelled = await campaign({ kind: 'text', text: 'never all' }, lang2);
    await call(BroadcasterActions.start, { actor, campaignId: cancelled });
    await call(BroadcasterActions.pause, { actor, campaignId: cancelled });
    await call(BroadcasterActions.resume, { actor, campaignId: cancelled });
    await call(BroadcasterActions.cancel, { actor, campaignId: cancelled });

    const of = (id: string) => audit.filter((e) => e.target === `broadcast:${id}`);
    await eventually(async () => of(campaignId).length >= 2, 'the first campaign audited', 15_000);
    expect(of(campaignId).map((e) => [e.action, e.actor])).to.deep.equal([
      ['broadcast.started', actor],
      ['broadcast.finished', 'system'],
    ]);
    const expected = ['broadcast.started', 'broadcast.paused', 'broadcast.resumed', 'broadcast.cancelled'];
    await eventually(async () => of(cancelled).length >= expected.length, 'the second campaign audited', 15_000);
    expect(of(cancelled).map((e) => e.action)).to.deep.equal(expected);
    for (const entry of [...of(campaignId), ...of(cancelled)]) {
      expect(Date.parse(entry.at)).to.be.closeTo(Date.now(), 120_000);
      expect(entry.id).to.be.a('string');
    }
  });
  it('sends no report for a draft cancelled before it started, and audits the cancel', async () => {
    const draft = await campaign({ kind: 'text', text: 'never started' }, nextLanguage());
    expect((await call(BroadcasterActions.cancel, { actor, campaignId: draft })).status).to.equal('cancelled');
    await eventually(
      async () => audit.some((e) => e.target === `broadcast:${draft}` && e.action === 'broadcast.cancelled'),
      'the cancel audited',
      15_000,
    );
    // A later campaign's report: the reporter has looked at the cancelled draft (an earlier id) by then.
    const lang = nextLanguage();
    await registerAudience(emulator, db.pool, 2, lang);
    const later = await campaign({ kind: 'text', text: 'after the draft' }, lang);
    await call(BroadcasterActions.start, { actor, campaignId: later });
    await finished(later);
    await admin.waitForMessage(new RegExp(`Broadcast #${later} finished`), 30_000);
    expect(admin.messages().filter((m) => m.text.includes(`#${draft}`))).to.deep.equal([]);
  });

  it("shows the progress message and the report in the admin's language", async () => {
    const ruAdmin = emulator.user({ id: RU_ADMIN_ID });
    const lang = nextLanguage();
    await registerAudience(emulator, db.pool, 2, lang);
    const { campaignId } = await call(BroadcasterActions.create, {
      actor: String(RU_ADMIN_ID),
      content: { kind: 'text', text: 'по-русски' },
      audience: { kind: 'language', language: lang },
    });
    await call(BroadcasterActions.start, { actor: String(RU_ADMIN_ID), campaignId });
    await finished(campaignId);
    const report = await ruAdmin.waitForMessage(new RegExp(`Рассылка #${campaignId} завершена`), 30_000);
    expect(report.text).to.match(/Отправлено: 2/);
    expect(ruAdmin.messages().filter((m) => m.text.includes(`#${campaignId}`))).to.have.length(1);
    expect(admin.messages().filter((m) => m.text.includes(`#${campaignId}`))).to.deep.equal([]);
  });

  it('stops every replica sending the moment pause or cancel answers', async () => {
    // Two replicas at 3 messages/s, each with 20 recipients claimed: most of a batch waits for its slot when the
    // admin acts, and none of those may leave once the action has answered.
    const REPLICAS = 2;
    await broadcaster.stop();
    const slow = testConfig({ ...overrides, TELEGRAM_GLOBAL_RATE: '3', BROADCAST_CONCURRENCY: '20' });
    const replicas: Node[] = [];
    try {
      for (let i = 0; i < REPLICAS; i++) {
        replicas.push(
          await startNode(slow, [broadcasterService], { db, redis, broker: { nodeID: `${namespace}-slow${i}` } }),
        );
      }
      await users.broker.waitForServices(['broadcaster'], 10_000);
      const lang = nextLanguage();
      const members = await registerAudience(emulator, db.pool, 60, lang);
      const campaignId = await campaign({ kind: 'text', text: 'halt' }, lang);
      const requests = () => emulator.calls('sendMessage').filter((c) => c.params.text === 'halt').length;
      const settled = () =>
        eventually(async () => !(await statusCounts(db.pool, campaignId)).sending, 'claimed recipients to settle');
      // What the action's answer allows still to arrive: a request that passed its check just before the status
      // changed. The budget lets one request leave per 334 ms slot at 3/s: at most one such request per replica.
      const inFlightBound = REPLICAS;

      // Every replica holds claimed recipients (each keeps at least half of BROADCAST_CONCURRENCY claimed).
      const everyReplicaClaimed = () =>
        eventually(async () => {
          const { rows } = await db.pool.query<{ n: number }>(
            `SELECT count(DISTINCT claimed_by)::int AS n FROM broadcast_recipients
             WHERE broadcast_id = $1 AND status = 'sending'`,
            [campaignId],
          );
          return rows[0]!.n >= REPLICAS;
        }, 'every replica to hold claimed recipients');

      await call(BroadcasterActions.start, { actor, campaignId });
      await eventually(async () => requests() >= 3, 'some sends');
      await everyReplicaClaimed();
      expect((await call(BroadcasterActions.pause, { actor, campaignId })).status).to.equal('paused');
      const atPause = requests();
      await settled();
      expect(requests() - atPause, 'requests after the pause answered').to.be.at.most(inFlightBound);
      const paused = await statusCounts(db.pool, campaignId);
      expect(paused.sent, 'sent = requests').to.equal(requests());
      expect(paused.pending, 'the claimed rest back to pending').to.equal(60 - requests());

      await call(BroadcasterActions.resume, { actor, campaignId });
      await eventually(async () => requests() >= paused.sent! + 3, 'sends after the resume');
      await everyReplicaClaimed();
      expect((await call(BroadcasterActions.cancel, { actor, campaignId })).status).to.equal('cancelled');
      const atCancel = requests();
      await settled();
      const report = await admin.waitForMessage(new RegExp(`Broadcast #${campaignId} cancelled`), 30_000);
      expect(requests() - atCancel, 'requests after the cancel answered').to.be.at.most(inFlightBound);
      const cancelled = await statusCounts(db.pool, campaignId);
      expect(cancelled.sent).to.equal(requests()).and.be.below(60);
      expect(cancelled.pending ?? 0, 'unsent').to.equal(60 - requests());
      expect(report.text).to.contain(`Not sent: ${60 - requests()}`);
      for (const m of members) expect(m.tg.messages().filter((x) => x.text === 'halt').length).to.be.at.most(1);
    } finally {
      for (const replica of replicas) await replica.stop();
      broadcaster = await startNode(config, [broadcasterService], { db, redis, broker: { nodeID: `${namespace}-b` } });
    }
  });
});
