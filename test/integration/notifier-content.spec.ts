// notifier with any content on real parts (users, PostgreSQL, Redis, NATS JetStream, the Bot API emulator): every
// media kind with captions and keyboards through the notifications.requested channel, stored media uploaded once,
// a long text split and rendered, unreachable users never retried, abandoned notifications raising an admin alert.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Config } from '../../services';
import {
  callAction,
  NotifierActions,
  type ContentRequestInput,
  type MessageContent,
  type UrlKeyboard,
} from '../../lib/contracts';
import { type Redis } from '../../lib/redis';
import { sendToChannel, startNode, type Node } from '../../lib/runtime';
import { MAX_ATTEMPTS } from '../../services/notifier/notification-log';
import { notifierService } from '../../services/notifier/notifier.service';
import { usersService } from '../../services/users/users.service';
import { type TestDatabase } from '../support/database';
import { consumerSettled } from '../support/jetstream';
import { eventually } from '../support/system';
import { startTelegramBed, type TelegramBed } from '../support/telegram-bed';
import { TelegramEmulator, type RecordedMessage, type SimulatedUser } from '../support/telegram-emulator';
import { formatText } from '../support/telegram-emulator/formatting';

const CHANNEL = 'notifications.requested';
const uniqueId = (what: string) => `${what}:${randomBytes(6).toString('hex')}`;
const ADMINS = [5_560_001, 5_560_002];
const keyboard: UrlKeyboard = [
  [{ text: 'Open', url: 'https://example.com/open' }],
  [
    { text: 'Help', url: 'https://example.com/help' },
    { text: 'Chat', url: 'tg://resolve?domain=sigmatrade' },
  ],
];
const inlineKeyboard = { inline_keyboard: keyboard };

describe('notifier: content of every kind', function () {
  this.timeout(120_000);
  let bed: TelegramBed;
  let db: TestDatabase;
  let redis: Redis;
  let emulator: TelegramEmulator;
  let namespace: string;
  let config: Config;
  let users: Node;
  let notifier: Node;
  let second: Node;

  before(async () => {
    bed = await startTelegramBed('notify-content', {
      env: {
        // The job's first tick is an hour away: retries run only when a test calls notifier.retryFailed.
        NOTIFICATION_RETRY_INTERVAL_MS: '3600000',
        ADMIN_TELEGRAM_IDS: ADMINS.join(','),
      },
    });
    ({ db, redis, emulator, namespace, config } = bed);
    users = await startNode(config, [usersService], { db, redis, broker: { nodeID: `${namespace}-users` } });
    // Two replicas: stored media must still be uploaded once, whichever replica sends first.
    notifier = await startNode(config, [notifierService], { db, redis, broker: { nodeID: `${namespace}-notifier` } });
    second = await startNode(config, [notifierService], { db, redis, broker: { nodeID: `${namespace}-notifier-2` } });
    // Tests call notifier's actions from the users node: both replicas known there first.
    await users.broker.waitForServices(['notifier']);
    await eventually(
      async () => users.broker.registry.getActionEndpoints('notifier.storeMedia')?.count() === 2,
      'both notifier replicas known',
    );
  });

  after(async () => {
    await second?.stop();
    await notifier?.stop();
    await users?.stop();
    await bed?.stop();
  });

  afterEach(async () => {
    await eventually(() => consumerSettled(namespace, CHANNEL, 'notifier'), 'the notifier consumer to settle', 60_000);
  });

  async function recipient(firstName = 'Test'): Promise<{ tg: SimulatedUser; id: string }> {
    const tg = emulator.user({ first_name: firstName, language_code: 'en' });
    tg.sendText('/start');
    const { user } = await users.broker.call<{ user: { id: string } }, object>('users.register', {
      telegramId: String(tg.id),
      firstName,
      languageCode: 'en',
    });
    return { tg, id: user.id };
  }

  /** Users marked unreachable, from users' own columns. */
  async function unreachableMarks(): Promise<{ telegramId: string; reason: string }[]> {
    const { rows } = await db.pool.query<{ telegramId: string; reason: string }>(
      `SELECT telegram_id::text AS "telegramId", unreachable_reason AS reason FROM users WHERE unreachable_at IS NOT NULL`,
    );
    return rows;
  }

  const publish = (request: ContentRequestInput) => sendToChannel(users.broker, CHANNEL, request, uniqueId('msg'));

  async function storeMedium(kind: string, filename: string, mimeType: string) {
    return callAction(users.broker, NotifierActions.storeMedia, {
      kind: kind as never,
      filename,
      mimeType,
      base64: randomBytes(3000).toString('base64'),
    });
  }

  const outgoing = async (id: string) =>
    (
      await db.pool.query<{ status: string; message_ids: string[] }>(
        'SELECT status, message_ids FROM outgoing_messages WHERE notification_id = $1',
        [id],
      )
    ).rows[0];
  const failedRow = async (id: string) =>
    (
      await db.pool.query<{ status: string; attempts: number; error: string; next_retry_at: Date | null }>(
        'SELECT status, attempts, error, next_retry_at FROM failed_notifications WHERE notification_id = $1',
        [id],
      )
    ).rows[0];
  const callsTo = (tg: SimulatedUser) =>
    emulator.calls().filter((c) => String(c.params['chat_id']) === String(tg.id) && c.method.startsWith('send'));

  it('sends text, photo, voice, audio, document, video and an album with captions and keyboards, uploading each stored medium once', async () => {
    const photo = await storeMedium('photo', 'chart.jpg', 'image/jpeg');
    const voice = await storeMedium('voice', 'hello.ogg', 'audio/ogg');
    const audio = await storeMedium('audio', 'theme.mp3', 'audio/mpeg');
    const document = await storeMedium('document', 'terms.pdf', 'application/pdf');
    const video = await storeMedium('video', 'howto.mp4', 'video/mp4');
    const albumPhoto = await storeMedium('photo', 'album-1.jpg', 'image/jpeg');
    const albumVideo = await storeMedium('video', 'album-2.mp4', 'video/mp4');
    expect(photo.created).to.equal(true);

    const contents: MessageContent[] = [
      { kind: 'text', text: '<b>Hello</b> &amp; welcome', buttons: keyboard },
      { kind: 'photo', media: { mediaId: photo.mediaId }, caption: '<b>Chart</b> of the day', buttons: keyboard },
      { kind: 'voice', media: { mediaId: voice.mediaId }, caption: 'A <i>voice</i> note', buttons: keyboard },
      { kind: 'audio', media: { mediaId: audio.mediaId }, caption: 'The theme', buttons: keyboard },
      { kind: 'document', media: { mediaId: document.mediaId }, caption: 'Our <u>terms</u>', buttons: keyboard },
      { kind: 'video', media: { mediaId: video.mediaId }, caption: 'How to deposit', buttons: keyboard },
      {
        kind: 'album',
        items: [
          { kind: 'photo', media: { mediaId: albumPhoto.mediaId }, caption: 'First <b>one</b>' },
          { kind: 'video', media: { mediaId: albumVideo.mediaId }, caption: 'Second' },
        ],
      },
    ];
    // Three users get all of it at once, through two replicas: every stored medium is wanted concurrently.
    const people = [await recipient('A'), await recipient('B'), await recipient('C')];
    await Promise.all(
      people.flatMap((p) =>
        contents.map((content, i) => publish({ id: uniqueId(`kind-${i}`), userId: p.id, content })),
      ),
    );
    await eventually(async () => people.every((p) => p.tg.messages().length === 8), 'every message delivered', 90_000);

    const uploads = emulator.uploads();
    for (const name of ['chart.jpg', 'hello.ogg', 'theme.mp3', 'terms.pdf', 'howto.mp4', 'album-1.jpg', 'album-2.mp4'])
      expect(
        uploads.filter((u) => u.filename === name),
        `uploads of ${name}`,
      ).to.have.length(1);
    const fileIds = await db.pool.query<{ filename: string; file_id: string | null }>(
      'SELECT filename, file_id FROM notifier_media',
    );
    for (const row of fileIds.rows) expect(row.file_id, row.filename).to.be.a('string');

    for (const p of people) {
      const byKind = (kind: string) => p.tg.messages().filter((m) => (m.media?.kind ?? 'text') === kind);
      const [text] = byKind('text');
      expect(text).to.include({ text: 'Hello & welcome' });
      expect(text!.entities.map((e) => e.type)).to.deep.equal(['bold']);
      expect(text!.reply_markup).to.deep.equal(inlineKeyboard);
      const captions: Record<string, string> = {
        photo: 'Chart of the day',
        voice: 'A voice note',
        audio: 'The theme',
        document: 'Our terms',
        video: 'How to deposit',
      };
      for (const [kind, caption] of Object.entries(captions)) {
        const single = byKind(kind).filter((m) => m.media_group_id === undefined);
        expect(single, kind).to.have.length(1);
        expect(single[0]!.text, kind).to.equal(caption);
        expect(single[0]!.reply_markup, kind).to.deep.equal(inlineKeyboard);
      }
      const album = p.tg.messages().filter((m) => m.media_group_id !== undefined);
      expect(album.map((m) => [m.media!.kind, m.text])).to.deep.equal([
        ['photo', 'First one'],
        ['video', 'Second'],
      ]);
      expect(album[0]!.entities.map((e) => e.type)).to.deep.equal(['bold']);
      expect(new Set(album.map((m) => m.media_group_id)).size).to.equal(1);
    }
    // The same file everywhere: sent by the file_id of its one upload.
    const photoIds = new Set(
      people.map((p) => p.tg.messages().find((m) => m.text === 'Chart of the day')!.media!.file_id),
    );
    expect(photoIds.size).to.equal(1);
    expect(fileIds.rows.find((r) => r.filename === 'chart.jpg')!.file_id).to.equal([...photoIds][0]);
  });

  it('splits a 10,000-character text with markup into parts that each render and together show it whole', async () => {
    const user = await recipient();
    let text = '';
    for (let i = 0; formatText(text, 'HTML').text.length < 10_000; i++)
      text +=
        `<b>Part ${i}</b>: <i>deposits</i> &amp; <code>withdrawals</code>, see <a href="https://example.com/${i}">the rules</a>. ` +
        'Your funds are credited after the confirmations of the chain. '.repeat(2) +
        (i % 3 === 2 ? '\n\n' : '\n');
    text = text.trim();
    const id = uniqueId('long');
    await publish({ id, userId: user.id, content: { kind: 'text', text, buttons: keyboard } });
    const expected = formatText(text, 'HTML').text;
    const normalise = (s: string) => s.replace(/\s+/g, ' ').trim();
    const received = await eventually(async () => {
      const messages = user.tg.messages();
      return normalise(messages.map((m) => m.text).join(' ')) === normalise(expected) && messages;
    }, 'the whole text delivered');

    expect(received.length).to.be.at.least(3);
    const calls = callsTo(user.tg);
    expect(
      calls.map((c) => c.status),
      'every part accepted: none too long, none with bad markup',
    ).to.deep.equal(received.map(() => 200));
    for (const m of received) expect(m.text.length).to.be.at.most(4096);
    // Formatting survives the cuts: every part shows bold, italic, code and links.
    for (const m of received) expect(new Set(m.entities.map((e) => e.type))).to.include.members(['bold', 'text_link']);
    // Buttons under the last part only.
    expect(received.map((m: RecordedMessage) => m.reply_markup !== undefined)).to.deep.equal(
      received.map((_, i) => i === received.length - 1),
    );
    const row = await eventually(async () => {
      const recorded = await outgoing(id);
      return recorded?.status === 'sent' && recorded;
    }, 'the send recorded');
    expect(row!.message_ids.map(Number)).to.deep.equal(received.map((m) => m.message_id));
  });

  it('marks a user who blocked the bot and a deactivated one unreachable, records them failed and never retries', async () => {
    const blocked = await recipient('Blocked');
    const gone = await recipient('Gone');
    blocked.tg.blockBot();
    gone.tg.deactivate();
    const toBlocked = uniqueId('blocked');
    const toGone = uniqueId('gone');
    await publish({ id: toBlocked, userId: blocked.id, content: { kind: 'text', text: 'Your withdrawal is sent' } });
    await publish({ id: toGone, userId: gone.id, content: { kind: 'text', text: 'Your withdrawal is sent' } });

    const marks = await eventually(async () => {
      const all = await unreachableMarks();
      return all.length >= 2 && all;
    }, 'users.markUnreachable called for both');
    expect(marks).to.deep.include.members([
      { telegramId: String(blocked.tg.id), reason: 'Forbidden: bot was blocked by the user' },
      { telegramId: String(gone.tg.id), reason: 'Forbidden: user is deactivated' },
    ]);
    for (const id of [toBlocked, toGone]) {
      const failed = await eventually(() => failedRow(id), 'the failure recorded');
      expect(failed).to.include({ status: 'failed', attempts: 1, next_retry_at: null });
      expect(failed.error).to.match(/^403: Forbidden/);
      expect(await outgoing(id)).to.equal(undefined);
    }

    // Never retried: not by the job, not by a copy of the request, not even once the user is back.
    blocked.tg.unblockBot();
    await db.pool.query('UPDATE failed_notifications SET next_retry_at = now() WHERE notification_id = ANY($1)', [
      [toBlocked, toGone],
    ]);
    expect(await callAction(notifier.broker, NotifierActions.retryFailed, {})).to.deep.equal({ due: 0, sent: 0 });
    expect(
      await callAction(notifier.broker, NotifierActions.send, {
        id: toBlocked,
        userId: blocked.id,
        content: { kind: 'text', text: 'Your withdrawal is sent' },
      }),
    ).to.deep.equal({ outcome: 'undeliverable' });
    expect(callsTo(blocked.tg)).to.have.length(1);
    expect(callsTo(gone.tg)).to.have.length(1);
  });

  it('records a message Telegram rejects (bad markup) as failed for good, without marking the user', async () => {
    const user = await recipient();
    const before = (await unreachableMarks()).length;
    expect(
      await callAction(notifier.broker, NotifierActions.send, {
        id: uniqueId('bad-markup'),
        userId: user.id,
        content: { kind: 'text', text: '<b>unclosed' },
      }),
    ).to.deep.equal({ outcome: 'undeliverable' });
    expect(await unreachableMarks()).to.have.length(before);
    expect(callsTo(user.tg).map((c) => c.status)).to.deep.equal([400]);
  });

  it('gives up after MAX_ATTEMPTS failures, visibly: one admin alert per abandoned notification', async () => {
    const admins = ADMINS.map((id) => emulator.user({ id, first_name: 'Admin', language_code: 'en' }));
    for (const admin of admins) admin.sendText('/start');
    const user = await recipient();
    const id = uniqueId('doomed');
    // Telegram answers 502 to this chat's every send until the notification is given up.
    emulator.failNext('sendMessage', { error_code: 502, description: 'Bad Gateway', times: MAX_ATTEMPTS });
    expect(
      await callAction(notifier.broker, NotifierActions.send, {
        id,
        userId: user.id,
        content: { kind: 'text', text: 'Your deposit is credited' },
      }),
    ).to.deep.equal({ outcome: 'failed' });
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      await db.pool.query('UPDATE failed_notifications SET next_retry_at = now() WHERE notification_id = $1', [id]);
      expect(await callAction(notifier.broker, NotifierActions.retryFailed, {})).to.deep.equal({ due: 1, sent: 0 });
    }
    expect(await failedRow(id)).to.include({ status: 'abandoned', attempts: MAX_ATTEMPTS });

    for (const admin of admins) {
      const alert = await admin.waitForMessage(/A notification was given up/, 20_000);
      expect(alert.text).to.contain(id).and.contain(`user #${user.id}`).and.contain('502: Bad Gateway');
    }
    // Later runs neither retry it nor alert again.
    await db.pool.query('UPDATE failed_notifications SET next_retry_at = now() WHERE notification_id = $1', [id]);
    expect(await callAction(notifier.broker, NotifierActions.retryFailed, {})).to.deep.equal({ due: 0, sent: 0 });
    await eventually(() => consumerSettled(namespace, 'alerts.raised', 'notifier'), 'the alerts handled');
    for (const admin of admins) expect(admin.messages().filter((m) => m.text.includes(id))).to.have.length(1);
    expect(user.tg.messages()).to.have.length(0);
    expect(callsTo(user.tg)).to.have.length(MAX_ATTEMPTS);
  });

  it('answers a preview with every medium as a file_id, and sends by it after the first upload', async () => {
    const admin = await recipient('Previewer');
    const photo = await storeMedium('photo', 'preview.jpg', 'image/jpeg');
    const document = await storeMedium('document', 'preview.pdf', 'application/pdf');
    const content: MessageContent = {
      kind: 'album',
      items: [
        { kind: 'document', media: { mediaId: document.mediaId }, caption: 'Terms' },
        { kind: 'document', media: { fileId: 'BQACunknown' } },
      ],
    };
    // A file_id Telegram does not know: refused clearly, and the stored medium is still not uploaded for good.
    const refused = await callAction(users.broker, NotifierActions.preview, {
      chatId: String(admin.tg.id),
      content,
    }).catch((e: Error) => e);
    expect(refused).to.be.instanceOf(Error);
    expect((refused as Error).message).to.match(/Telegram refused/);

    await new Promise((resolve) => setTimeout(resolve, 1100)); // the chat's pace
    const answer = await callAction(users.broker, NotifierActions.preview, {
      chatId: String(admin.tg.id),
      content: { kind: 'photo', media: { mediaId: photo.mediaId }, caption: 'Preview', buttons: keyboard },
    });
    expect(answer.messageIds).to.have.length(1);
    expect(answer.content).to.deep.include({ kind: 'photo', caption: 'Preview' });
    const fileId = (answer.content as { media: { fileId: string } }).media.fileId;
    expect(fileId).to.equal(admin.tg.messages().at(-1)!.media!.file_id);
    expect(emulator.uploads().filter((u) => u.filename === 'preview.jpg')).to.have.length(1);

    // A later send of the stored medium goes by that file_id.
    const user = await recipient();
    await publish({
      id: uniqueId('after-preview'),
      userId: user.id,
      content: { kind: 'photo', media: { mediaId: photo.mediaId } },
    });
    const sent = await user.tg.waitForMessage((m) => m.media?.kind === 'photo');
    expect(sent.media!.file_id).to.equal(fileId);
    expect(emulator.uploads().filter((u) => u.filename === 'preview.jpg')).to.have.length(1);
  });

  it('refuses bad media clearly and stores nothing', async () => {
    const count = async () => Number((await db.pool.query('SELECT count(*) FROM notifier_media')).rows[0].count);
    const before = await count();
    const store = (params: object) =>
      users.broker.call('notifier.storeMedia', params).then(
        () => expect.fail('expected a refusal'),
        (e: Error) => e.message,
      );
    const good = { kind: 'photo', filename: 'a.jpg', mimeType: 'image/jpeg', base64: 'AAAA' };
    expect(await store({ ...good, base64: 'not base64!' })).to.match(/base64/);
    expect(await store({ ...good, base64: 'AAA' })).to.match(/base64/);
    expect(await store({ ...good, base64: randomBytes(700_003).toString('base64') })).to.match(/at most 700000 bytes/);
    expect(await store({ ...good, kind: 'sticker' })).to.match(/kind/);
    expect(await store({ ...good, filename: '../etc/passwd' })).to.match(/plain file name/);
    expect(await store({ ...good, mimeType: 'jpeg' })).to.match(/MIME/);
    expect(await count()).to.equal(before);

    // The same bytes twice: one medium.
    const first = await callAction(users.broker, NotifierActions.storeMedia, good as never);
    const again = await callAction(users.broker, NotifierActions.storeMedia, good as never);
    expect(again).to.deep.equal({ mediaId: first.mediaId, created: false });

    // A stored photo sent as a document: the message is refused for good, nothing reaches Telegram.
    const user = await recipient();
    expect(
      await callAction(notifier.broker, NotifierActions.send, {
        id: uniqueId('wrong-kind'),
        userId: user.id,
        content: { kind: 'document', media: { mediaId: first.mediaId } },
      }),
    ).to.deep.equal({ outcome: 'undeliverable' });
    expect(callsTo(user.tg)).to.have.length(0);
  });
});
