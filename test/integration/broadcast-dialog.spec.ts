// The admins' broadcast dialog end to end on real parts: telegraf against the project's Telegram Bot API emulator,
// the bot-gateway, users and the real broadcaster on PostgreSQL, Redis and NATS. Recipients are emulator users
// registered with /start; what they receive is read from the emulator's record.
import { expect } from 'chai';
import { randomBytes, randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { apiGatewayService } from '../../gateway/api.service';
import type { Config } from '../../services';
import { type Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { botGatewayService } from '../../services/bot-gateway/bot-gateway.service';
import { broadcasterService } from '../../services/broadcaster/broadcaster.service';
import { usersService } from '../../services/users/users.service';
import { buttonsOf, press, send } from '../support/bot-dialog';
import { testConfig } from '../support/config';
import { startTelegramBed, type TelegramBed } from '../support/telegram-bed';
import { type TestDatabase } from '../support/database';
import {
  TelegramEmulator,
  type CallbackAnswer,
  type RecordedMessage,
  type SimulatedUser,
} from '../support/telegram-emulator';

process.env.LOG_LEVEL ??= 'warn';

const ADMIN = randomInt(100_000, 900_000);
/** Slow enough that a campaign of PAUSE_RECIPIENTS is still going when its progress message is pressed. */
const RATE = 3;
const EN_USERS = 3;
const RU_USERS = 2;
const PAUSE_RECIPIENTS = 60;

describe('broadcast dialog', function () {
  this.timeout(180_000);
  let bed: TelegramBed;
  let db: TestDatabase;
  let redis: Redis;
  let emulator: TelegramEmulator;
  let config: Config;
  let node: Node;
  let admin: SimulatedUser;
  let en: SimulatedUser[];
  let ru: SimulatedUser[];

  before(async () => {
    bed = await startTelegramBed('broadcast-dialog', {
      emulator: { enforceLimits: false },
      env: { RATE_LIMIT_MAX_REQUESTS: '1000', ADMIN_TELEGRAM_IDS: String(ADMIN), TELEGRAM_GLOBAL_RATE: String(RATE) },
    });
    ({ db, redis, emulator, config } = bed);
    node = await startNode(config, [usersService, botGatewayService, broadcasterService], { db, redis });
    admin = emulator.user({ id: ADMIN, language_code: 'en', first_name: 'Admin' });
    en = await registered(EN_USERS, 'en');
    ru = await registered(RU_USERS, 'ru');
  });

  after(async () => {
    await node?.stop();
    await bed?.stop();
  });

  /** Users who sent /start (so the bot may write to them). */
  async function registered(count: number, language: string): Promise<SimulatedUser[]> {
    const users = Array.from({ length: count }, () => emulator.user({ language_code: language }));
    await Promise.all(users.map((u) => send(u, '/start', /Welcome|Добро пожаловать/)));
    return users;
  }

  const campaigns = async () =>
    (
      await db.pool.query<{ id: string; status: string; total: number | null }>(
        'SELECT id::text, status, total FROM broadcasts ORDER BY id',
      )
    ).rows;

  const campaignStatus = async (id: string) => (await campaigns()).find((c) => c.id === id)?.status;

  const lastId = (user: SimulatedUser) =>
    Math.max(0, ...user.messages({ includeDeleted: true }).map((m) => m.message_id));

  /** The bot's answer to a button press (answerCallbackQuery). */
  async function answerOf(user: SimulatedUser, query: { id: string }): Promise<CallbackAnswer> {
    const find = () => user.callbackAnswers().find((a) => a.callback_query_id === query.id);
    await user.waitForMessage(() => find() !== undefined, 20_000);
    return find()!;
  }

  /** /broadcast and the bot's request for the content. */
  async function startDialog(): Promise<RecordedMessage> {
    const prompt = await send(admin, '/broadcast', /New broadcast/);
    expect(buttonsOf(prompt)).to.have.length(1);
    return prompt;
  }

  /** The audience chosen by button: resolves with the preview messages (the broadcaster's) and the confirmation. */
  async function chooseAudience(prompt: RecordedMessage, choice: string) {
    const before = lastId(admin);
    const data = buttonsOf(prompt).find((d) => d.endsWith(`:${choice}`))!;
    expect(data, `audience button ${choice}`).to.be.a('string');
    const confirmation = await press(admin, prompt, data, /Send to \d+ users?\?/);
    const preview = admin
      .messages()
      .filter((m) => m.message_id > before && m.message_id < confirmation.message_id && !isReport(m));
    return { preview, confirmation };
  }

  /** The broadcaster's report of a campaign that ended, meanwhile in the chat (a cancelled draft gets none). */
  const isReport = (m: RecordedMessage) => /^\S+ Broadcast #\d+ (cancelled|finished)/.test(m.text);

  const campaignIdOf = (confirmation: RecordedMessage) => /campaign #(\d+)/.exec(confirmation.text)![1]!;

  /** Send under the confirmation: resolves once the campaign is over (the progress message is its report). */
  async function sendAndFinish(confirmation: RecordedMessage) {
    const id = campaignIdOf(confirmation);
    const send = buttonsOf(confirmation).find((d) => d.startsWith('bcd:send:'))!;
    const query = admin.pressButton(confirmation, send);
    expect((await answerOf(admin, query)).text).to.equal('Started.');
    const count = /Send to (\d+) users?\?/.exec(confirmation.text)![1]!;
    await admin.waitForMessage(
      (m) => m.message_id === confirmation.message_id && m.text.includes(`Campaign #${id} started for ${count} user`),
    );
    await admin.waitForMessage(new RegExp(`Broadcast #${id} finished`), 60_000);
    return id;
  }

  const received = (users: SimulatedUser[], after: Map<number, number>) =>
    users.map((u) => u.messages().filter((m) => m.message_id > (after.get(u.id) ?? 0)));

  const marks = (users: SimulatedUser[]) => new Map(users.map((u) => [u.id, lastId(u)]));

  it('refuses /broadcast and /broadcasts to anyone but an admin, as unknown commands', async () => {
    const [user] = en;
    const answer = await send(user!, '/broadcast', /I don't know the command \/broadcast/);
    expect(answer.text).to.not.match(/New broadcast/);
    await send(user!, '/broadcasts', /I don't know the command \/broadcasts/);
    expect(await campaigns()).to.deep.equal([]);
  });

  it('broadcasts a formatted text with link buttons; a bad button line is refused and changes nothing', async () => {
    await startDialog();
    const buttonsPrompt = await (async () => {
      const sent = admin.sendText('<b>Big</b> news: 1 &lt; 2 &amp; <a href="https://example.com/a">more</a>', {
        markup: 'HTML',
      });
      return admin.waitForMessage((m) => m.message_id > sent.message_id && /Add link buttons/.test(m.text));
    })();
    expect(buttonsOf(buttonsPrompt).some((d) => d.startsWith('bcd:skip:'))).to.equal(true);

    const refused = await send(admin, 'Site https://example.com\nChannel - ftp://x', /Line 1/);
    expect(refused.text).to.contain('Nothing was changed');
    const bad = await send(admin, 'Site - https://example.com | Channel - ftp://x', /Line 1: «ftp:\/\/x»/);
    expect(bad.text).to.contain('Nothing was changed');

    const audience = await send(
      admin,
      'Site - https://example.com | Channel - https://t.me/example\nDocs - https://docs.example.com',
      /3 buttons added/,
    );
    const { preview, confirmation } = await chooseAudience(audience, 'all');
    expect(confirmation.text).to.contain(`Send to ${EN_USERS + RU_USERS} users?`);
    // The broadcaster's preview: the message as recipients will see it.
    expect(preview).to.have.length(1);
    expect(preview[0]!.text).to.equal('Big news: 1 < 2 & more');
    const urls = (m: RecordedMessage) =>
      m.reply_markup && 'inline_keyboard' in m.reply_markup
        ? m.reply_markup.inline_keyboard.map((row) => row.map((b) => ('url' in b ? b.url : '')))
        : [];
    expect(urls(preview[0]!)).to.deep.equal([
      ['https://example.com', 'https://t.me/example'],
      ['https://docs.example.com'],
    ]);

    const before = marks([...en, ...ru]);
    const id = await sendAndFinish(confirmation);
    for (const messages of received([...en, ...ru], before)) {
      expect(messages).to.have.length(1);
      const [message] = messages;
      expect(message!.text).to.equal('Big news: 1 < 2 & more');
      expect(message!.entities.map((e) => e.type)).to.include.members(['bold', 'text_link']);
      expect(message!.entities.find((e) => e.type === 'text_link')).to.include({ url: 'https://example.com/a' });
      expect(urls(message!)).to.deep.equal(urls(preview[0]!));
    }
    expect(await campaignStatus(id)).to.equal('finished');
  });

  it('broadcasts a photo with its caption by the file_id of the admin’s message, to one language', async () => {
    await startDialog();
    const sent = admin.sendMedia('photo', { caption: '<i>Look</i> at this', markup: 'HTML' });
    const fileId = sent.photo!.at(-1)!.file_id;
    const buttonsPrompt = await admin.waitForMessage(
      (m) => m.message_id > sent.message_id && /Add link buttons/.test(m.text),
    );
    const skip = buttonsOf(buttonsPrompt).find((d) => d.startsWith('bcd:skip:'))!;
    const audience = await press(admin, buttonsPrompt, skip, /Who gets it/);
    const { preview, confirmation } = await chooseAudience(audience, 'l-ru');
    expect(confirmation.text).to.contain(`Send to ${RU_USERS} users?`);
    expect(preview).to.have.length(1);
    expect(preview[0]!.media).to.include({ kind: 'photo', file_id: fileId });

    const before = marks([...en, ...ru]);
    await sendAndFinish(confirmation);
    for (const messages of received(ru, before)) {
      expect(messages).to.have.length(1);
      expect(messages[0]!.media).to.include({ kind: 'photo', file_id: fileId });
      expect(messages[0]!.text).to.equal('Look at this');
      expect(messages[0]!.entities.map((e) => e.type)).to.deep.equal(['italic']);
    }
    for (const messages of received(en, before)) expect(messages).to.have.length(0);
    // Sent on by file_id: the emulator stored no upload for it.
    expect(emulator.uploads()).to.have.length(0);
  });

  it('previews every other media kind by the file_id of the admin’s message; a new /broadcast drops the draft', async () => {
    for (const kind of ['video', 'audio', 'voice', 'document'] as const) {
      await startDialog();
      const sent = admin.sendMedia(kind, { caption: `A ${kind}` });
      const fileId = (sent[kind] as { file_id: string }).file_id;
      const buttonsPrompt = await admin.waitForMessage(
        (m) => m.message_id > sent.message_id && /Add link buttons/.test(m.text),
      );
      const skip = buttonsOf(buttonsPrompt).find((d) => d.startsWith('bcd:skip:'))!;
      const audience = await press(admin, buttonsPrompt, skip, /Who gets it/);
      const { preview, confirmation } = await chooseAudience(audience, 'all');
      expect(preview, kind).to.have.length(1);
      expect(preview[0]!.media, kind).to.include({ kind, file_id: fileId });
      expect(preview[0]!.text, kind).to.equal(`A ${kind}`);
      // Not sent: the next /broadcast replaces this dialog and cancels its draft.
      await startDialog();
      expect(await campaignStatus(campaignIdOf(confirmation))).to.equal('cancelled');
      const stale = admin.sendCallbackData(
        confirmation,
        buttonsOf(confirmation).find((d) => d.startsWith('bcd:send:'))!,
      );
      expect((await answerOf(admin, stale)).text).to.match(/finished or was replaced/);
    }
  });

  it('collects an album until Done and broadcasts it as one album, to a typed language', async () => {
    const prompt = await startDialog();
    const items = admin.sendAlbum([
      { kind: 'photo', caption: 'Album <b>caption</b>', markup: 'HTML' },
      { kind: 'video' },
      { kind: 'photo' },
    ]);
    const fileIds = items.map((m) => (m.photo ? m.photo.at(-1)!.file_id : m.video!.file_id));
    const notice = await admin.waitForMessage((m) => m.message_id > prompt.message_id && /Album received/.test(m.text));
    const done = buttonsOf(notice).find((d) => d.startsWith('bcd:done:'))!;
    // Every item is handled (one notice for the album, not one per item) before Done is pressed.
    await emulator.waitForIdle(20_000);
    expect(admin.messages().filter((m) => /Album received/.test(m.text))).to.have.length(1);
    const audience = await press(admin, notice, done, /Album of 3 items taken/);
    expect(audience.text).to.contain('Who gets it');

    const before = lastId(admin);
    const confirmation = await send(admin, 'EN', /Send to \d+ users?\?/);
    expect(confirmation.text).to.contain(`Send to ${EN_USERS} users?`);
    const preview = admin
      .messages()
      .filter((m) => m.message_id > before && m.message_id < confirmation.message_id && !isReport(m));
    expect(preview.map((m) => m.media?.file_id)).to.deep.equal(fileIds);
    expect(new Set(preview.map((m) => m.media_group_id)).size).to.equal(1);

    const marksBefore = marks([...en, ...ru]);
    await sendAndFinish(confirmation);
    for (const messages of received(en, marksBefore)) {
      expect(messages.map((m) => m.media?.file_id)).to.deep.equal(fileIds);
      expect(messages[0]!.media_group_id).to.be.a('string');
      expect(new Set(messages.map((m) => m.media_group_id)).size).to.equal(1);
      expect(messages[0]!.text).to.equal('Album caption');
    }
    for (const messages of received(ru, marksBefore)) expect(messages).to.have.length(0);
  });

  it('cancels at any step: nothing is drafted before the audience, and a previewed draft is cancelled', async () => {
    const first = await startDialog();
    const cancel = buttonsOf(first)[0]!;
    await press(admin, first, cancel, /Broadcast cancelled/);
    // The same button again, and the button of a dialog replaced by a new one, are stale.
    const again = admin.sendCallbackData(first, cancel);
    expect((await answerOf(admin, again)).text).to.match(/finished or was replaced/);

    const countBefore = (await campaigns()).length;
    await startDialog();
    await send(admin, 'Short notice', /Add link buttons/);
    const audience = await press(
      admin,
      admin.lastMessage()!,
      buttonsOf(admin.lastMessage()!).find((d) => d.startsWith('bcd:skip:'))!,
      /Who gets it/,
    );
    expect((await campaigns()).length).to.equal(countBefore);
    const { confirmation } = await chooseAudience(audience, 'all');
    const id = campaignIdOf(confirmation);
    const before = marks([...en, ...ru]);
    await press(
      admin,
      confirmation,
      buttonsOf(confirmation).find((d) => d.startsWith('bcd:no:'))!,
      /Broadcast cancelled/,
    );
    expect(await campaignStatus(id)).to.equal('cancelled');
    // Send under the cancelled confirmation is stale and sends nothing.
    const late = admin.sendCallbackData(
      confirmation,
      buttonsOf(confirmation).find((d) => d.startsWith('bcd:send:'))!,
    );
    expect((await answerOf(admin, late)).text).to.match(/finished or was replaced/);
    expect(await campaignStatus(id)).to.equal('cancelled');
    for (const messages of received([...en, ...ru], before)) expect(messages).to.have.length(0);
  });

  it('pauses, resumes and cancels from the progress message; forged and wrong presses change nothing', async () => {
    const crowd = await registered(PAUSE_RECIPIENTS - EN_USERS - RU_USERS, 'en');
    const everyone = [...en, ...ru, ...crowd];
    await startDialog();
    await send(admin, 'A long campaign', /Add link buttons/);
    const audience = await press(
      admin,
      admin.lastMessage()!,
      buttonsOf(admin.lastMessage()!).find((d) => d.startsWith('bcd:skip:'))!,
      /Who gets it/,
    );
    const { confirmation } = await chooseAudience(audience, 'all');
    expect(confirmation.text).to.contain(`Send to ${PAUSE_RECIPIENTS} users?`);
    const id = campaignIdOf(confirmation);
    const before = marks(everyone);
    const start = admin.pressButton(
      confirmation,
      buttonsOf(confirmation).find((d) => d.startsWith('bcd:send:'))!,
    );
    expect((await answerOf(admin, start)).text).to.equal('Started.');

    const progress = await admin.waitForMessage(
      (m) =>
        new RegExp(`Broadcast #${id}</b> — sending`).test(m.source_text) && buttonsOf(m).includes(`bc:pause:${id}`),
      30_000,
    );
    const pause = admin.pressButton(progress, `bc:pause:${id}`);
    expect((await answerOf(admin, pause)).text).to.match(new RegExp(`Campaign #${id} paused \\(\\d+ of \\d+ sent\\)`));
    expect(await campaignStatus(id)).to.equal('paused');

    // Pausing again is refused with the reason; a campaign that does not exist and forged data are answered too.
    const twice = admin.sendCallbackData(progress, `bc:pause:${id}`);
    expect(await answerOf(admin, twice)).to.include({ show_alert: true });
    expect((await answerOf(admin, twice)).text).to.match(new RegExp(`Campaign #${id} is ⏸ paused now`));
    const missing = admin.sendCallbackData(progress, 'bc:pause:999999999');
    expect((await answerOf(admin, missing)).text).to.equal('There is no campaign #999999999.');
    const forged = admin.sendCallbackData(progress, 'bc:pause:abc');
    expect((await answerOf(admin, forged)).text).to.match(/no longer valid/);
    // A user who is not an admin cannot control a campaign, whatever their client sends.
    const intruder = crowd[0]!;
    const intrusion = intruder.sendCallbackData(intruder.lastMessage()!, `bc:cancel:${id}`);
    expect((await answerOf(intruder, intrusion)).text).to.match(/no longer valid/);
    expect(await campaignStatus(id)).to.equal('paused');

    const resume = admin.pressButton(
      await admin.waitForMessage(
        (m) => m.message_id === progress.message_id && buttonsOf(m).includes(`bc:resume:${id}`),
      ),
      `bc:resume:${id}`,
    );
    expect((await answerOf(admin, resume)).text).to.match(new RegExp(`Campaign #${id} resumed`));
    expect(await campaignStatus(id)).to.equal('running');

    // /broadcasts shows it running with Pause and Cancel; a press there acts and shows the list as it is now.
    const list = await send(admin, '/broadcasts', /Latest campaigns/);
    expect(list.text).to.match(new RegExp(`#${id} ▶️ running`));
    expect(buttonsOf(list)).to.include.members([`bcl:pause:${id}`, `bcl:cancel:${id}`]);
    const listPause = admin.pressButton(list, `bcl:pause:${id}`);
    expect((await answerOf(admin, listPause)).text).to.match(new RegExp(`Campaign #${id} paused`));
    const relisted = await admin.waitForMessage(
      (m) => m.message_id === list.message_id && new RegExp(`#${id} ⏸ paused`).test(m.text),
    );
    expect(buttonsOf(relisted)).to.include.members([`bcl:resume:${id}`, `bcl:cancel:${id}`]);
    expect(buttonsOf(relisted)).to.not.include(`bcl:pause:${id}`);
    const listResume = admin.pressButton(relisted, `bcl:resume:${id}`);
    expect((await answerOf(admin, listResume)).text).to.match(new RegExp(`Campaign #${id} resumed`));
    expect(await campaignStatus(id)).to.equal('running');

    // Cancel under the progress message: it ends as the cancelled campaign's report.
    const cancel = admin.pressButton(progress, `bc:cancel:${id}`);
    expect((await answerOf(admin, cancel)).text).to.match(new RegExp(`Campaign #${id} cancelled`));
    expect(await campaignStatus(id)).to.equal('cancelled');
    const report = await admin.waitForMessage(
      (m) => m.message_id === progress.message_id && new RegExp(`Broadcast #${id} cancelled`).test(m.text),
      30_000,
    );

    const got = received(everyone, before).filter((messages) => messages.some((m) => m.text === 'A long campaign'));
    expect(got.length).to.be.below(PAUSE_RECIPIENTS);
    // The report counts exactly those who have it.
    expect(Number(/Sent: (\d+)/.exec(report.text)?.[1])).to.equal(got.length);
    for (const messages of received(everyone, before)) expect(messages.length).to.be.at.most(1);
  });
  it('offers /broadcast paid, refused by the broadcaster with its reason while paid broadcasts are off', async () => {
    await send(admin, '/broadcast loud', /Use \/broadcast, or \/broadcast paid/);
    const prompt = await send(admin, '/broadcast paid', /New broadcast/);
    expect(prompt.text).to.contain('Paid broadcast');
    await send(admin, 'Paid news', /Add link buttons/);
    const audience = await press(
      admin,
      admin.lastMessage()!,
      buttonsOf(admin.lastMessage()!).find((d) => d.startsWith('bcd:skip:'))!,
      /Who gets it/,
    );
    const countBefore = (await campaigns()).length;
    const refused = await press(
      admin,
      audience,
      buttonsOf(audience).find((d) => d.endsWith(':all'))!,
      /Not done/,
    );
    expect(refused.text).to.contain('paid broadcasts are off');
    expect(refused.text).to.contain('Who gets it');
    expect((await campaigns()).length).to.equal(countBefore);
    await press(
      admin,
      refused,
      buttonsOf(refused).find((d) => d.startsWith('bcd:no:'))!,
      /Broadcast cancelled/,
    );
  });

  // Last: it stops the broadcaster.
  it('says the broadcaster is unavailable and keeps the dialog where it was while it is away', async () => {
    await node.broker.destroyService('broadcaster');
    const countBefore = (await campaigns()).length;
    await startDialog();
    await send(admin, 'While it is away', /Add link buttons/);
    const audience = await press(
      admin,
      admin.lastMessage()!,
      buttonsOf(admin.lastMessage()!).find((d) => d.startsWith('bcd:skip:'))!,
      /Who gets it/,
    );
    const all = buttonsOf(audience).find((d) => d.endsWith(':all'))!;
    await press(admin, audience, all, /temporarily unavailable/);
    // The same buttons still stand, and so does the dialog: a typed audience is taken at the same step.
    const again = await press(admin, audience, all, /temporarily unavailable/);
    expect(again.text).to.contain('try again');
    await send(admin, 'ru', /temporarily unavailable/);
    expect((await campaigns()).length).to.equal(countBefore);
  });
});

// Two bot-gateway replicas behind the webhook: each dialog begins on one replica and ends on the other (the first
// is taken away halfway), so everything it remembers lives in Redis and nowhere else.
describe('broadcast dialog across two bot-gateway replicas (webhook)', function () {
  this.timeout(180_000);
  const secret = `secret_${randomBytes(8).toString('hex')}`;
  let bed: TelegramBed;
  let db: TestDatabase;
  let redis: Redis;
  let emulator: TelegramEmulator;
  let apiNode: Node;
  let first: Node;
  let second: Node | undefined;
  let namespace: string;
  let admin: SimulatedUser;
  let users: SimulatedUser[];
  let webhookConfig: Config;

  /** The nodes the HTTP gateway hands Telegram's updates to (none until the first replica is known). */
  const handlers = (): string[] => {
    const list = apiNode.broker.registry.getActionEndpoints('bot-gateway.handleUpdate') as
      { endpoints: { isAvailable: boolean; node: { id: string } }[] } | undefined;
    return (list?.endpoints ?? []).filter((e) => e.isAvailable).map((e) => e.node.id);
  };

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  before(async () => {
    bed = await startTelegramBed('broadcast-dialog-replicas', {
      emulator: { enforceLimits: false },
      // The admin's whole dialog below is 5 updates once its album of 5 counts as one.
      env: { RATE_LIMIT_MAX_REQUESTS: '6', ADMIN_TELEGRAM_IDS: String(ADMIN) },
    });
    ({ db, redis, emulator, namespace } = bed);
    const apiConfig = bed.config;
    apiNode = await startNode(apiConfig, [apiGatewayService], { db, redis, broker: { nodeID: `${namespace}-api` } });
    const port = (
      apiNode.broker.getLocalService('api') as unknown as { server: { address(): AddressInfo } }
    ).server.address().port;
    // Telegram insists on https; the emulator delivers https URLs over plain HTTP, as a TLS proxy would.
    webhookConfig = testConfig({
      ...bed.env,
      TELEGRAM_WEBHOOK_DOMAIN: `https://127.0.0.1:${port}`,
      TELEGRAM_WEBHOOK_SECRET: secret,
    });
    first = await startNode(webhookConfig, [usersService, broadcasterService, botGatewayService], {
      db,
      redis,
      broker: { nodeID: `${namespace}-first` },
    });
    await until(() => handlers().length === 1, 'the first replica');
    admin = emulator.user({ id: ADMIN, language_code: 'en', first_name: 'Admin' });
    users = Array.from({ length: 2 }, () => emulator.user({ language_code: 'en' }));
    await Promise.all(users.map((u) => send(u, '/start', /Welcome/)));
  });

  after(async () => {
    await second?.stop();
    await first?.stop();
    await apiNode?.stop();
    await bed?.stop();
  });

  /** From now on only the second replica handles updates. */
  async function handOver(): Promise<void> {
    await emulator.waitForIdle(20_000);
    second = await startNode(webhookConfig, [botGatewayService], {
      db,
      redis,
      broker: { nodeID: `${namespace}-second` },
    });
    await until(() => handlers().length === 2, 'the second replica');
    await first.broker.destroyService('bot-gateway');
    await until(() => handlers().join() === `${namespace}-second`, 'the first replica to be gone');
  }

  it('begins a dialog on one replica and finishes it on the other: an album (one update to the rate limit), Send', async () => {
    const prompt = await send(admin, '/broadcast', /New broadcast/);
    const items = admin.sendAlbum([
      { kind: 'photo', caption: 'Two replicas' },
      ...Array.from({ length: 4 }, () => ({ kind: 'photo' as const })),
    ]);
    const fileIds = items.map((m) => m.photo!.at(-1)!.file_id);
    const notice = await admin.waitForMessage((m) => m.message_id > prompt.message_id && /Album received/.test(m.text));

    await handOver();

    const done = buttonsOf(notice).find((d) => d.startsWith('bcd:done:'))!;
    const audience = await press(admin, notice, done, /Album of 5 items taken/);
    const all = buttonsOf(audience).find((d) => d.endsWith(':all'))!;
    const confirmation = await press(admin, audience, all, /Send to 2 users\?/);
    const id = /campaign #(\d+)/.exec(confirmation.text)![1]!;
    const start = admin.pressButton(
      confirmation,
      buttonsOf(confirmation).find((d) => d.startsWith('bcd:send:'))!,
    );
    await admin.waitForMessage(() => admin.callbackAnswers().some((a) => a.callback_query_id === start.id));
    await admin.waitForMessage(new RegExp(`Broadcast #${id} finished`), 60_000);
    for (const user of users) {
      const album = user.messages().filter((m) => m.media_group_id !== undefined);
      expect(album.map((m) => m.media?.file_id)).to.deep.equal(fileIds);
      expect(album[0]!.text).to.equal('Two replicas');
    }
  });
});
