// Drives the Telegram Bot API emulator with a real, unmodified telegraf bot, in long polling and webhook mode.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Markup, Telegraf, TelegramError } from 'telegraf';
import {
  TelegramEmulator,
  type ApiFailure,
  type RecordedMessage,
  type TelegramEmulatorOptions,
} from '../support/telegram-emulator';

const WELCOME = /^Welcome, /;
const DEPOSIT_TEXT = 'Send USDT (BEP-20) to 0x5aA0000000000000000000000000000000000001';

interface BotProbe {
  bot: Telegraf;
  memberships: string[];
}

/** A small bot in the shape of SigmaTrade's: a /start menu, an inline "Deposit" flow that edits the menu. */
function buildBot(emu: TelegramEmulator): BotProbe {
  const bot = new Telegraf(emu.token, { telegram: { apiRoot: emu.apiRoot } });
  const memberships: string[] = [];
  bot.start((ctx) =>
    ctx.reply(
      `Welcome, ${ctx.from.first_name}! Choose an action:`,
      Markup.inlineKeyboard([
        [Markup.button.callback('Deposit USDT', 'deposit')],
        [Markup.button.callback('Balance', 'balance')],
      ]),
    ),
  );
  bot.action('deposit', async (ctx) => {
    await ctx.answerCbQuery('Generating your address…');
    await ctx.editMessageText(DEPOSIT_TEXT, Markup.inlineKeyboard([Markup.button.callback('« Back', 'back')]));
  });
  bot.action('balance', (ctx) => ctx.answerCbQuery('Balance: 0.00 USDT', { show_alert: true }));
  bot.on('my_chat_member', (ctx) => {
    memberships.push(`${ctx.myChatMember.old_chat_member.status}->${ctx.myChatMember.new_chat_member.status}`);
  });
  return { bot, memberships };
}

async function telegramError(promise: Promise<unknown>): Promise<TelegramError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TelegramError) return error;
    throw error;
  }
  throw new Error('expected the Bot API call to fail, it succeeded');
}

async function rawCall(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: ApiFailure | { ok: true; result: unknown } }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as ApiFailure | { ok: true; result: unknown } };
}

function buttonsOf(message: RecordedMessage | undefined): string[] {
  const markup = message?.reply_markup;
  if (!markup || !('inline_keyboard' in markup)) return [];
  return markup.inline_keyboard.flat().map((b) => `${b.text}=${b.callback_data}`);
}

async function startEmulator(options: TelegramEmulatorOptions = {}): Promise<TelegramEmulator> {
  const emu = new TelegramEmulator(options);
  await emu.start();
  return emu;
}

describe('TelegramEmulator', function () {
  describe('with telegraf in long polling mode', function () {
    let emu: TelegramEmulator;
    let probe: BotProbe;
    let polling: Promise<void>;

    beforeEach(async function () {
      emu = await startEmulator();
      probe = buildBot(emu);
      await new Promise<void>((resolve, reject) => {
        polling = probe.bot.launch({ dropPendingUpdates: false }, resolve);
        polling.catch(reject);
      });
    });

    afterEach(async function () {
      probe.bot.stop('test done');
      await polling;
      await emu.stop();
    });

    it('answers /start with the menu, delivered through getUpdates', async function () {
      const alice = emu.user({ first_name: 'Alice', username: 'alice' });
      alice.sendText('/start');

      const menu = await alice.waitForMessage(WELCOME);
      expect(menu.text).to.equal('Welcome, Alice! Choose an action:');
      expect(buttonsOf(menu)).to.deep.equal(['Deposit USDT=deposit', 'Balance=balance']);
      // What the bot gets back is Telegram's shape: telegraf's extra `hide: false` is gone.
      expect(menu.raw.reply_markup).to.deep.equal({
        inline_keyboard: [
          [{ text: 'Deposit USDT', callback_data: 'deposit' }],
          [{ text: 'Balance', callback_data: 'balance' }],
        ],
      });
      expect(menu.raw.from).to.include({ id: emu.botInfo.id, is_bot: true });
      expect(menu.raw.chat).to.deep.equal({ id: alice.id, type: 'private', first_name: 'Alice', username: 'alice' });

      const delivered = emu
        .calls('getUpdates')
        .flatMap((c) =>
          c.response.ok ? (c.response.result as { message?: { text?: string; entities?: unknown } }[]) : [],
        )
        .find((u) => u.message?.text === '/start');
      expect(delivered?.message?.entities).to.deep.equal([{ type: 'bot_command', offset: 0, length: 6 }]);
      const send = emu.calls('sendMessage');
      expect(send).to.have.length(1);
      expect(send[0]!.params['chat_id']).to.equal(alice.id);
      expect(send[0]!.status).to.equal(200);
    });

    it('confirms updates through the getUpdates offset', async function () {
      const bob = emu.user({ first_name: 'Bob' });
      bob.sendText('/start');
      await bob.waitForMessage(WELCOME);
      await emu.waitForIdle();
      expect(emu.pendingUpdateCount).to.equal(0);
      const info = await probe.bot.telegram.getWebhookInfo();
      expect(info).to.include({ url: '', pending_update_count: 0 });
    });

    it('handles a button press: answerCallbackQuery then editMessageText', async function () {
      const alice = emu.user({ first_name: 'Alice' });
      alice.sendText('/start');
      const menu = await alice.waitForMessage(WELCOME);

      const query = alice.pressButton(menu, 'deposit');
      const edited = await alice.waitForMessage((m) => m.message_id === menu.message_id && m.edits === 1);

      expect(edited.text).to.equal(DEPOSIT_TEXT);
      expect(buttonsOf(edited)).to.deep.equal(['« Back=back']);
      expect(edited.raw.edit_date).to.be.a('number');
      expect(alice.messages()).to.have.length(1);
      await emu.waitForIdle();
      const [answer] = alice.callbackAnswers();
      expect(answer).to.include({
        callback_query_id: query.id,
        data: 'deposit',
        message_id: menu.message_id,
        text: 'Generating your address…',
        show_alert: false,
      });

      // The same query cannot be answered twice.
      const again = await telegramError(probe.bot.telegram.answerCbQuery(query.id, 'again'));
      expect(again.code).to.equal(400);
      expect(again.description).to.equal(
        'Bad Request: query is too old and response timeout expired or query ID is invalid',
      );
    });

    it('refuses to press a button the message does not have', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      const menu = await alice.waitForMessage(WELCOME);
      expect(() => alice.pressButton(menu, 'withdraw')).to.throw(
        /no inline button with callback_data "withdraw".*\[Deposit USDT\]/,
      );
    });

    it('rejects an edit that changes nothing and an edit of a missing message', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      const menu = await alice.waitForMessage(WELCOME);
      // The very keyboard /start sent (telegraf adds `hide: false`; Telegram compares what it stored).
      const sameKeyboard = Markup.inlineKeyboard([
        [Markup.button.callback('Deposit USDT', 'deposit')],
        [Markup.button.callback('Balance', 'balance')],
      ]);

      const same = await telegramError(
        probe.bot.telegram.editMessageText(alice.id, menu.message_id, undefined, menu.text, sameKeyboard),
      );
      expect(same.code).to.equal(400);
      expect(same.description).to.match(/^Bad Request: message is not modified/);

      const missing = await telegramError(probe.bot.telegram.editMessageText(alice.id, 9_999, undefined, 'x'));
      expect(missing.description).to.equal('Bad Request: message to edit not found');

      // Editing only the text without repeating the keyboard drops the keyboard, as on Telegram.
      const result = await probe.bot.telegram.editMessageText(alice.id, menu.message_id, undefined, 'Menu closed');
      expect(result).to.include({ text: 'Menu closed' });
      expect(alice.lastMessage()).to.include({ text: 'Menu closed', edits: 1 });
      expect(alice.lastMessage()!.raw.reply_markup).to.equal(undefined);
    });

    it('answers 403 once the user blocked the bot, and tells the bot through my_chat_member', async function () {
      const carol = emu.user({ first_name: 'Carol' });
      carol.sendText('/start');
      await carol.waitForMessage(WELCOME);
      carol.blockBot();

      const error = await telegramError(probe.bot.telegram.sendMessage(carol.id, 'Your deposit arrived'));
      expect(error.code).to.equal(403);
      expect(error.description).to.equal('Forbidden: bot was blocked by the user');
      await emu.waitForIdle();
      expect(probe.memberships).to.deep.equal(['member->kicked']);
      expect(carol.messages().map((m) => m.text)).to.deep.equal(['Welcome, Carol! Choose an action:']);
    });

    it('rejects text over 4096 characters with 400 and accepts exactly 4096', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      await alice.waitForMessage(WELCOME);

      const error = await telegramError(probe.bot.telegram.sendMessage(alice.id, 'x'.repeat(4097)));
      expect(error.code).to.equal(400);
      expect(error.description).to.equal('Bad Request: message is too long');
      const ok = await probe.bot.telegram.sendMessage(alice.id, 'y'.repeat(4096));
      expect(ok.text).to.have.length(4096);
      expect(alice.lastMessage()!.text).to.equal('y'.repeat(4096));
    });

    it('surfaces an injected 429 with retry_after, then recovers', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      await alice.waitForMessage(WELCOME);
      emu.failNext('sendMessage', { error_code: 429, retry_after: 7 });

      const error = await telegramError(probe.bot.telegram.sendMessage(alice.id, 'first try'));
      expect(error.code).to.equal(429);
      expect(error.description).to.equal('Too Many Requests: retry after 7');
      expect(error.parameters).to.deep.equal({ retry_after: 7 });
      const retried = await probe.bot.telegram.sendMessage(alice.id, 'second try');
      expect(retried.text).to.equal('second try');
      expect(emu.calls('sendMessage').map((c) => c.status)).to.deep.equal([200, 429, 200]);
      expect(alice.messages().map((m) => m.text)).to.not.include('first try');
    });

    it('enforces the per-chat flood limit with 429 and retry_after', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      await alice.waitForMessage(WELCOME); // 1 of the 3-message burst

      const results = await Promise.allSettled(
        [1, 2, 3, 4].map((n) => probe.bot.telegram.sendMessage(alice.id, `notice ${n}`)),
      );
      const sent = results.filter((r) => r.status === 'fulfilled');
      const limited = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as TelegramError] : []));
      expect(sent).to.have.length(2);
      expect(limited).to.have.length(2);
      for (const error of limited) {
        expect(error.code).to.equal(429);
        expect(error.parameters?.retry_after).to.be.within(1, 2);
        expect(error.description).to.equal(`Too Many Requests: retry after ${error.parameters?.retry_after}`);
      }
      expect(alice.messages()).to.have.length(3);

      // Another chat has its own budget.
      const dave = emu.user();
      dave.sendText('hello');
      expect((await probe.bot.telegram.sendMessage(dave.id, 'hi Dave')).text).to.equal('hi Dave');
    });
  });

  describe('with telegraf in webhook mode', function () {
    const SECRET = 'sigma-secret_42';
    let emu: TelegramEmulator;
    let probe: BotProbe;
    let receiver: http.Server;
    let received: { url: string; secret: string | undefined }[];
    let failNextDeliveries: number;

    beforeEach(async function () {
      emu = await startEmulator({ webhook: { retryBaseDelayMs: 20, maxAttempts: 3 } });
      probe = buildBot(emu);
      received = [];
      failNextDeliveries = 0;
      // Until telegraf's webhook callback exists, the receiver is "down" (503).
      let handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
        req.resume();
        res.writeHead(503).end();
      };
      receiver = http.createServer((req, res) => {
        const secret = req.headers['x-telegram-bot-api-secret-token'];
        received.push({ url: req.url ?? '', secret: typeof secret === 'string' ? secret : undefined });
        if (failNextDeliveries > 0) {
          failNextDeliveries -= 1;
          req.resume();
          res.writeHead(500).end();
          return;
        }
        handle(req, res);
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const { port } = receiver.address() as AddressInfo;
      handle = await probe.bot.createWebhook({ domain: `127.0.0.1:${port}`, secret_token: SECRET });
    });

    afterEach(async function () {
      await emu.stop();
      await new Promise<void>((resolve) => {
        receiver.close(() => resolve());
        receiver.closeAllConnections();
      });
    });

    it('delivers /start to the webhook with the secret token header, and the bot replies', async function () {
      const alice = emu.user({ first_name: 'Alice' });
      alice.sendText('/start');
      const menu = await alice.waitForMessage(WELCOME);

      expect(menu.text).to.equal('Welcome, Alice! Choose an action:');
      expect(received).to.have.length(1);
      expect(received[0]!.secret).to.equal(SECRET);
      expect(received[0]!.url).to.match(/^\/telegraf\/[0-9a-f]{64}$/);
      await emu.waitForIdle();
      const [delivery] = emu.webhookDeliveries();
      expect(delivery).to.include({ attempt: 1, status: 200, secret_token: SECRET });
      const info = await probe.bot.telegram.getWebhookInfo();
      expect(info.url).to.equal(`https://127.0.0.1:${(receiver.address() as AddressInfo).port}${received[0]!.url}`);
      expect(info.pending_update_count).to.equal(0);
    });

    it('runs answerCallbackQuery from the webhook reply and editMessageText over HTTP', async function () {
      const alice = emu.user({ first_name: 'Alice' });
      alice.sendText('/start');
      const menu = await alice.waitForMessage(WELCOME);
      alice.pressButton(menu, 'balance');
      await emu.waitForIdle();

      const [answer] = alice.callbackAnswers();
      expect(answer).to.include({ data: 'balance', text: 'Balance: 0.00 USDT', show_alert: true });
      // telegraf's webhookReply puts answerCallbackQuery into the webhook response body.
      expect(emu.calls('answerCallbackQuery').map((c) => c.transport)).to.deep.equal(['webhook-reply']);

      alice.pressButton(menu, 'deposit');
      const edited = await alice.waitForMessage((m) => m.edits === 1);
      expect(edited.text).to.equal(DEPOSIT_TEXT);
      expect(emu.calls('editMessageText')[0]).to.include({ transport: 'http', status: 200 });
    });

    it('retries a failing webhook with backoff and reports the error in getWebhookInfo', async function () {
      failNextDeliveries = 2;
      const alice = emu.user({ first_name: 'Alice' });
      alice.sendText('/start');
      await alice.waitForMessage(WELCOME);
      await emu.waitForIdle(); // the bot answers the webhook only after its reply went out

      expect(emu.webhookDeliveries().map((d) => d.status)).to.deep.equal([500, 500, 200]);
      const info = await probe.bot.telegram.getWebhookInfo();
      expect(info.last_error_message).to.equal('Wrong response from the webhook: 500 Internal Server Error');
      expect(info.last_error_date).to.be.a('number');
    });

    it('gives an update up after maxAttempts when the bot rejects the secret token', async function () {
      const { url } = await probe.bot.telegram.getWebhookInfo();
      expect(url).to.match(/^https:\/\/127\.0\.0\.1:\d+\/telegraf\//);
      await probe.bot.telegram.setWebhook(url!, { secret_token: 'wrong' });
      const alice = emu.user();
      alice.sendText('/start');
      await emu.waitForIdle();

      // telegraf's webhook filter answers 403 to a mismatching secret token.
      expect(emu.webhookDeliveries().map((d) => `${d.status}:${d.secret_token}`)).to.deep.equal([
        '403:wrong',
        '403:wrong',
        '403:wrong',
      ]);
      expect(alice.messages()).to.deep.equal([]);
      expect(emu.pendingUpdateCount).to.equal(0);
    });

    it('answers getUpdates with 409 while a webhook is set', async function () {
      const error = await telegramError(probe.bot.telegram.callApi('getUpdates', {}));
      expect(error.code).to.equal(409);
      expect(error.description).to.equal(
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
      await probe.bot.telegram.deleteWebhook();
      expect(await probe.bot.telegram.callApi('getUpdates', {})).to.deep.equal([]);
    });
  });

  describe('Bot API surface', function () {
    let emu: TelegramEmulator;
    let bot: Telegraf;

    beforeEach(async function () {
      emu = await startEmulator();
      bot = new Telegraf(emu.token, { telegram: { apiRoot: emu.apiRoot } });
    });

    afterEach(async function () {
      await emu.stop();
    });

    it('answers 401 Unauthorized for a wrong token', async function () {
      const wrong = new Telegraf('123456:not-the-token', { telegram: { apiRoot: emu.apiRoot } });
      const error = await telegramError(wrong.telegram.getMe());
      expect(error.code).to.equal(401);
      expect(error.description).to.equal('Unauthorized');
      const raw = await rawCall(`${emu.apiRoot}/bot123456:not-the-token/getMe`);
      expect(raw).to.deep.equal({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } });
      expect((await bot.telegram.getMe()).id).to.equal(emu.botInfo.id);
    });

    it('answers 404 Not Found for an unknown method', async function () {
      const raw = await rawCall(`${emu.apiRoot}/bot${emu.token}/sendUnicorn`, { method: 'POST' });
      expect(raw).to.deep.equal({ status: 404, body: { ok: false, error_code: 404, description: 'Not Found' } });
      const error = await telegramError(bot.telegram.callApi('sendUnicorn' as 'getMe', {}));
      expect(error.code).to.equal(404);
      expect(emu.calls('sendUnicorn')[0]?.response).to.deep.equal({
        ok: false,
        error_code: 404,
        description: 'Not Found',
      });
    });

    it('implements getUpdates offset, limit and long polling like Telegram', async function () {
      const alice = emu.user();
      ['one', 'two', 'three'].forEach((text) => alice.sendText(text));

      const firstTwo = await bot.telegram.getUpdates(0, 2, 0, []);
      expect(firstTwo.map((u) => ('message' in u && 'text' in u.message ? u.message.text : ''))).to.deep.equal([
        'one',
        'two',
      ]);
      expect(firstTwo[1]!.update_id).to.equal(firstTwo[0]!.update_id + 1);
      // Nothing is confirmed until a higher offset is asked for.
      expect(await bot.telegram.getUpdates(0, 100, 0, [])).to.have.length(3);
      const rest = await bot.telegram.getUpdates(0, 100, firstTwo[1]!.update_id + 1, []);
      expect(rest.map((u) => u.update_id)).to.deep.equal([firstTwo[1]!.update_id + 1]);
      expect(emu.pendingUpdateCount).to.equal(1);
      await bot.telegram.getUpdates(0, 100, rest[0]!.update_id + 1, []);
      expect(emu.pendingUpdateCount).to.equal(0);

      // A long poll returns as soon as an update arrives, not after its timeout.
      const started = Date.now();
      const waiting = bot.telegram.getUpdates(20, 100, 0, []);
      setTimeout(() => alice.sendText('late'), 100);
      const late = await waiting;
      expect(Date.now() - started).to.be.below(5_000);
      expect(late.map((u) => ('message' in u && 'text' in u.message ? u.message.text : ''))).to.deep.equal(['late']);

      // A second poller terminates the first, as Telegram does.
      await bot.telegram.getUpdates(0, 100, late[0]!.update_id + 1, []);
      const first = telegramError(bot.telegram.getUpdates(20, 100, 0, []));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = bot.telegram.getUpdates(20, 100, 0, []);
      const terminated = await first;
      expect(terminated.code).to.equal(409);
      expect(terminated.description).to.equal(
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      );
      alice.sendText('for the second');
      expect((await second).map((u) => ('message' in u && 'text' in u.message ? u.message.text : ''))).to.deep.equal([
        'for the second',
      ]);
    });

    it('injects dropped connections and 5xx answers', async function () {
      emu.dropConnections(1).failNext('getMe', { error_code: 500 });
      const dropped = await bot.telegram.getMe().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(dropped?.name).to.equal('FetchError');
      expect(dropped?.message).to.match(/socket hang up|ECONNRESET/);
      const internal = await telegramError(bot.telegram.getMe());
      expect(internal.code).to.equal(500);
      expect(internal.description).to.equal('Internal Server Error');
      expect((await bot.telegram.getMe()).username).to.equal(emu.botInfo.username);
    });

    it('accepts query-string and url-encoded parameters, and rejects malformed multipart cleanly', async function () {
      const alice = emu.user();
      alice.sendText('hi');
      const query = await rawCall(`${emu.apiRoot}/bot${emu.token}/sendMessage?chat_id=${alice.id}&text=from%20query`);
      expect(query.body).to.deep.include({ ok: true });
      const form = await rawCall(`${emu.apiRoot}/bot${emu.token}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          chat_id: String(alice.id),
          text: 'from form',
          reply_markup: '{"remove_keyboard":true}',
        }),
      });
      expect(form.status).to.equal(200);
      expect(alice.messages().map((m) => m.text)).to.deep.equal(['from query', 'from form']);
      const multipart = await rawCall(`${emu.apiRoot}/bot${emu.token}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
        body: 'not a multipart body',
      });
      expect(multipart).to.deep.equal({
        status: 400,
        body: { ok: false, error_code: 400, description: 'Bad Request: failed to parse multipart/form-data' },
      });
      const garbage = await rawCall(`${emu.apiRoot}/bot${emu.token}/getMe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{',
      });
      expect(garbage.status).to.equal(400);
    });

    it('validates chats, parse modes and buttons like Telegram', async function () {
      const notFound = await telegramError(bot.telegram.sendMessage(42, 'hello'));
      expect(notFound.description).to.equal('Bad Request: chat not found');
      const stranger = emu.user();
      const initiate = await telegramError(bot.telegram.sendMessage(stranger.id, 'hello'));
      expect(initiate.description).to.equal("Forbidden: bot can't initiate conversation with a user");
      stranger.sendText('hi');

      const empty = await telegramError(bot.telegram.sendMessage(stranger.id, '  '));
      expect(empty.description).to.equal('Bad Request: message text is empty');
      const markdown = await telegramError(
        bot.telegram.sendMessage(stranger.id, 'Deposit 10.5 USDT', { parse_mode: 'MarkdownV2' }),
      );
      expect(markdown.description).to.equal(
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
      );
      const longData = await telegramError(
        bot.telegram.sendMessage(
          stranger.id,
          'pick',
          Markup.inlineKeyboard([Markup.button.callback('x', 'd'.repeat(65))]),
        ),
      );
      expect(longData.description).to.equal('Bad Request: BUTTON_DATA_INVALID');

      const html = await bot.telegram.sendMessage(
        stranger.id,
        '<b>Balance:</b> 1 &lt; 2 <a href="https://bscscan.com">tx</a>',
        { parse_mode: 'HTML' },
      );
      expect(html.text).to.equal('Balance: 1 < 2 tx');
      expect(html.entities).to.deep.equal([
        { type: 'bold', offset: 0, length: 8 },
        { type: 'text_link', offset: 15, length: 2, url: 'https://bscscan.com' },
      ]);
    });

    it('stores commands, deletes messages and accepts chat actions', async function () {
      await bot.telegram.setMyCommands([{ command: 'start', description: 'Open the menu' }]);
      expect(await bot.telegram.getMyCommands()).to.deep.equal([{ command: 'start', description: 'Open the menu' }]);
      const bad = await telegramError(bot.telegram.setMyCommands([{ command: 'Bad Command', description: 'x' }]));
      expect(bad.description).to.equal('Bad Request: BOT_COMMAND_INVALID');

      const alice = emu.user();
      alice.sendText('/start');
      expect(await bot.telegram.sendChatAction(alice.id, 'typing')).to.equal(true);
      const sent = await bot.telegram.sendMessage(alice.id, 'temporary');
      expect(await bot.telegram.deleteMessage(alice.id, sent.message_id)).to.equal(true);
      expect(alice.messages()).to.deep.equal([]);
      expect(alice.messages({ includeDeleted: true })[0]).to.include({ text: 'temporary', deleted: true });
      const twice = await telegramError(bot.telegram.deleteMessage(alice.id, sent.message_id));
      expect(twice.description).to.equal('Bad Request: message to delete not found');
    });

    it('limits the whole bot to the global rate', async function () {
      const tight = await startEmulator({ limits: { globalBurst: 3, globalPerSecond: 3 } });
      try {
        const client = new Telegraf(tight.token, { telegram: { apiRoot: tight.apiRoot } });
        const users = [1, 2, 3, 4].map(() => tight.user());
        users.forEach((u) => u.sendText('/start'));
        const results = await Promise.allSettled(users.map((u) => client.telegram.sendMessage(u.id, 'broadcast')));
        const codes = results.map((r) => (r.status === 'fulfilled' ? 200 : (r.reason as TelegramError).code));
        expect(codes.filter((c) => c === 200)).to.have.length(3);
        expect(codes.filter((c) => c === 429)).to.have.length(1);
      } finally {
        await tight.stop();
      }
    });

    it('gives paid broadcasts (allow_paid_broadcast) their own global budget', async function () {
      const tight = await startEmulator({
        limits: { globalBurst: 2, globalPerSecond: 2, paidBurst: 5, paidPerSecond: 5 },
      });
      try {
        const client = new Telegraf(tight.token, { telegram: { apiRoot: tight.apiRoot } });
        const users = Array.from({ length: 6 }, () => tight.user());
        users.forEach((u) => u.sendText('/start'));
        // telegraf's types predate allow_paid_broadcast; it passes the parameter through as is.
        const codes = async (extra: { allow_paid_broadcast?: boolean }): Promise<number[]> =>
          (await Promise.allSettled(users.map((u) => client.telegram.sendMessage(u.id, 'news', extra as never)))).map(
            (r) => (r.status === 'fulfilled' ? 200 : (r.reason as TelegramError).code),
          );
        expect((await codes({})).filter((c) => c === 200)).to.have.length(2);
        expect((await codes({ allow_paid_broadcast: true })).filter((c) => c === 200)).to.have.length(5);
      } finally {
        await tight.stop();
      }
    });

    it('sends without limits when enforceLimits is false', async function () {
      const free = await startEmulator({ enforceLimits: false });
      try {
        const client = new Telegraf(free.token, { telegram: { apiRoot: free.apiRoot } });
        const alice = free.user();
        alice.sendText('/start');
        for (let i = 1; i <= 10; i += 1) await client.telegram.sendMessage(alice.id, `line ${i}`);
        expect(alice.messages().map((m) => m.text)).to.deep.equal(
          Array.from({ length: 10 }, (_, i) => `line ${i + 1}`),
        );
      } finally {
        await free.stop();
      }
    });

    it('rejects waitForMessage with a listing of what was received', async function () {
      const alice = emu.user({ username: 'alice' });
      alice.sendText('/start');
      await bot.telegram.sendMessage(alice.id, 'Welcome!', Markup.inlineKeyboard([Markup.button.callback('Go', 'go')]));
      const error = await alice.waitForMessage(/never/, 50).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.equal(
        `No bot message to user ${alice.id} (@alice) matched /never/ within 50 ms. Received 1 message(s):\n  #2: "Welcome!" buttons: [Go] (callback_data "go")`,
      );
    });
  });
  describe('media, files and albums', function () {
    let emu: TelegramEmulator;
    let bot: Telegraf;

    beforeEach(async function () {
      emu = await startEmulator({ enforceLimits: false });
      bot = new Telegraf(emu.token, { telegram: { apiRoot: emu.apiRoot } });
    });

    afterEach(async function () {
      await emu.stop();
    });

    const bytes = (kind: string): Buffer => Buffer.from(`fake ${kind} bytes ${'x'.repeat(64)}`);

    it('sends every media kind by upload through telegraf, then by file_id with no new upload', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      const t = bot.telegram;
      const keyboard = Markup.inlineKeyboard([Markup.button.url('Open', 'https://example.org')]);
      const extra = { caption: '<b>Hello</b> there', parse_mode: 'HTML' as const, ...keyboard };
      const uploaded = [
        await t.sendPhoto(alice.id, { source: bytes('photo'), filename: 'p.jpg' }, extra),
        await t.sendDocument(alice.id, { source: bytes('document'), filename: 'report.pdf' }, extra),
        await t.sendVideo(alice.id, { source: bytes('video'), filename: 'v.mp4' }, { ...extra, duration: 7 }),
        await t.sendAudio(alice.id, { source: bytes('audio'), filename: 'a.mp3' }, { ...extra, title: 'Song' }),
        await t.sendVoice(alice.id, { source: bytes('voice'), filename: 'v.ogg' }, { ...extra, duration: 3 }),
      ] as unknown as Record<string, unknown>[];
      const kinds = ['photo', 'document', 'video', 'audio', 'voice'];
      const fileIds = uploaded.map((m, i) => {
        const field = m[kinds[i]!] as
          { file_id: string; file_unique_id: string; file_size: number }[] | { file_id: string };
        const file = Array.isArray(field) ? field[field.length - 1]! : field;
        expect(file).to.include.keys('file_id', 'file_unique_id');
        expect(m['caption']).to.equal('Hello there');
        expect(m['caption_entities']).to.deep.equal([{ type: 'bold', offset: 0, length: 5 }]);
        return file.file_id;
      });
      expect((uploaded[0]!['photo'] as { width: number }[])[0]).to.include({ file_size: bytes('photo').length });
      expect(uploaded[1]!['document']).to.include({ file_name: 'report.pdf' });
      expect(uploaded[2]!['video']).to.include({ duration: 7 });
      expect(uploaded[3]!['audio']).to.include({ title: 'Song', file_name: 'a.mp3' });
      expect(uploaded[4]!['voice']).to.include({ duration: 3 });

      await t.sendPhoto(alice.id, fileIds[0]!);
      await t.sendDocument(alice.id, fileIds[1]!);
      await t.sendVideo(alice.id, fileIds[2]!);
      await t.sendAudio(alice.id, fileIds[3]!);
      await t.sendVoice(alice.id, fileIds[4]!);

      expect(emu.uploads().map((u) => [u.method, u.file_id])).to.deep.equal(
        kinds.map((k, i) => [`send${k[0]!.toUpperCase()}${k.slice(1)}`, fileIds[i]]),
      );
      const messages = alice.messages();
      expect(messages.map((m) => m.media?.kind)).to.deep.equal([...kinds, ...kinds]);
      expect(messages.map((m) => m.media?.file_id)).to.deep.equal([...fileIds, ...fileIds]);
      expect(messages[0]).to.include({ text: 'Hello there', source_text: '<b>Hello</b> there', parse_mode: 'HTML' });
      expect(buttonsOf(messages[0])).to.deep.equal(['Open=undefined']);
      // The call record names an upload instead of carrying its bytes.
      expect(emu.calls('sendPhoto')[0]!.params['photo']).to.deep.equal({
        upload: 'p.jpg',
        size: bytes('photo').length,
        mime_type: 'text/plain', // telegraf's parts carry no Content-Type: multipart's default
      });
      // A file_id is bound to its kind.
      const mismatch = await telegramError(t.sendVoice(alice.id, fileIds[0]!));
      expect(mismatch.description).to.equal('Bad Request: type of file mismatch');
      const unknown = await telegramError(t.sendPhoto(alice.id, 'no-such-file'));
      expect(unknown.description).to.equal('Bad Request: wrong file identifier/HTTP URL specified');
    });

    it('parses a raw multipart request, and takes a file by URL', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      const form = new FormData();
      form.set('chat_id', String(alice.id));
      form.set('caption', 'raw');
      form.set('document', new Blob([bytes('raw')], { type: 'text/plain' }), 'notes.txt');
      const raw = await rawCall(`${emu.apiRoot}/bot${emu.token}/sendDocument`, { method: 'POST', body: form });
      expect(raw.status).to.equal(200);
      expect(emu.uploads()).to.have.length(1);
      expect(emu.uploads()[0]).to.include({ field: 'document', filename: 'notes.txt', mime_type: 'text/plain' });

      const byUrl = await bot.telegram.sendPhoto(alice.id, 'https://example.org/cat.jpg');
      expect(byUrl.photo[0]).to.have.keys('file_id', 'file_unique_id', 'width', 'height');
      expect(emu.uploads()).to.have.length(1);
    });

    it('sends a media group with attach:// parts, and enforces the album rules', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      const album = await bot.telegram.sendMediaGroup(alice.id, [
        { type: 'photo', media: { source: bytes('one'), filename: '1.jpg' }, caption: 'first' },
        { type: 'video', media: { source: bytes('two'), filename: '2.mp4' } },
        { type: 'photo', media: { source: bytes('three'), filename: '3.jpg' } },
      ]);
      expect(album).to.have.length(3);
      const groupId = album[0]!.media_group_id;
      expect(groupId).to.be.a('string');
      expect(album.map((m) => m.media_group_id)).to.deep.equal([groupId, groupId, groupId]);
      expect(emu.uploads().map((u) => u.filename)).to.deep.equal(['1.jpg', '2.mp4', '3.jpg']);
      expect(alice.messages().map((m) => [m.media?.kind, m.text, m.media_group_id])).to.deep.equal([
        ['photo', 'first', groupId],
        ['video', '', groupId],
        ['photo', '', groupId],
      ]);
      const first = alice.messages()[0]!.media!.file_id;

      // Reused by file_id: no new upload.
      await bot.telegram.sendMediaGroup(alice.id, [
        { type: 'photo', media: first },
        { type: 'photo', media: first },
      ]);
      expect(emu.uploads()).to.have.length(3);

      const mixed = await telegramError(
        bot.telegram.sendMediaGroup(alice.id, [
          { type: 'document', media: 'https://example.org/a.pdf' },
          { type: 'photo', media: first },
        ] as never),
      );
      expect(mixed.description).to.equal("Bad Request: document can't be mixed with other media types");
      const single = await telegramError(bot.telegram.sendMediaGroup(alice.id, [{ type: 'photo', media: first }]));
      expect(single.description).to.equal('Bad Request: wrong number of media specified');
      const docs = await bot.telegram.sendMediaGroup(alice.id, [
        { type: 'document', media: 'https://example.org/a.pdf' },
        { type: 'document', media: 'https://example.org/b.pdf' },
      ]);
      expect(docs.map((m) => 'document' in m)).to.deep.equal([true, true]);
    });

    it('rejects a caption over 1024 characters after entity parsing', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      const photo = { source: bytes('photo') };
      const exact = await bot.telegram.sendPhoto(alice.id, photo, {
        caption: `<b>${'a'.repeat(1024)}</b>`,
        parse_mode: 'HTML',
      });
      expect(exact.caption).to.have.length(1024);
      const error = await telegramError(bot.telegram.sendPhoto(alice.id, photo, { caption: 'a'.repeat(1025) }));
      expect(error.code).to.equal(400);
      expect(error.description).to.equal('Bad Request: message caption is too long');
      expect(alice.messages()).to.have.length(1);
      expect(emu.uploads().map((u) => u.file_id !== undefined)).to.deep.equal([true, false]);
    });

    it('describes a file with getFile and serves its bytes for download', async function () {
      const alice = emu.user();
      alice.sendText('/start');
      const sent = await bot.telegram.sendDocument(alice.id, { source: bytes('download'), filename: 'data.csv' });
      const file = await bot.telegram.getFile(sent.document.file_id);
      expect(file).to.include({ file_id: sent.document.file_id, file_size: bytes('download').length });
      expect(file.file_path).to.match(/^documents\/file_\d+\.csv$/);
      const link = await bot.telegram.getFileLink(sent.document.file_id);
      const res = await fetch(link);
      expect(res.status).to.equal(200);
      expect(Buffer.from(await res.arrayBuffer())).to.deep.equal(bytes('download'));
      expect(emu.fileBytes(sent.document.file_id)).to.deep.equal(bytes('download'));
      expect((await fetch(`${emu.apiRoot}/file/botwrong/${file.file_path}`)).status).to.equal(404);
      const missing = await telegramError(bot.telegram.getFile('nope'));
      expect(missing.description).to.equal('Bad Request: invalid file_id');
    });

    it('edits a caption and copies text and media messages', async function () {
      const alice = emu.user();
      const bob = emu.user();
      alice.sendText('/start');
      bob.sendText('/start');
      const photo = await bot.telegram.sendPhoto(alice.id, { source: bytes('photo') }, { caption: 'old' });
      const edited = await bot.telegram.editMessageCaption(alice.id, photo.message_id, undefined, '<i>new</i>', {
        parse_mode: 'HTML',
      });
      expect(edited).to.include({ caption: 'new' });
      expect(alice.messages()[0]).to.include({ text: 'new', source_text: '<i>new</i>', edits: 1 });
      const same = await telegramError(
        bot.telegram.editMessageCaption(alice.id, photo.message_id, undefined, '<i>new</i>', { parse_mode: 'HTML' }),
      );
      expect(same.description).to.match(/^Bad Request: message is not modified/);
      const text = await bot.telegram.sendMessage(alice.id, 'plain');
      const noCaption = await telegramError(bot.telegram.editMessageCaption(alice.id, text.message_id, undefined, 'x'));
      expect(noCaption.description).to.equal('Bad Request: there is no caption in the message to edit');

      const copy = await bot.telegram.copyMessage(bob.id, alice.id, photo.message_id);
      const recaptioned = await bot.telegram.copyMessage(bob.id, alice.id, photo.message_id, { caption: 'for Bob' });
      await bot.telegram.copyMessage(bob.id, alice.id, text.message_id);
      expect(copy.message_id).to.be.a('number');
      expect(recaptioned.message_id).to.equal(copy.message_id + 1);
      expect(bob.messages().map((m) => [m.media?.file_id, m.text])).to.deep.equal([
        [alice.messages()[0]!.media!.file_id, 'new'],
        [alice.messages()[0]!.media!.file_id, 'for Bob'],
        [undefined, 'plain'],
      ]);
      expect(emu.uploads()).to.have.length(1);
      const gone = await telegramError(bot.telegram.copyMessage(bob.id, alice.id, 999));
      expect(gone.description).to.equal('Bad Request: message to copy not found');
    });

    it('delivers user media to a polling telegraf bot that downloads it and sends it on by file_id', async function () {
      const received: string[] = [];
      bot.on('message', async (ctx) => {
        const message = ctx.message as unknown as Record<string, unknown>;
        const kind = ['photo', 'document', 'video', 'audio', 'voice'].find((k) => k in message)!;
        const field = message[kind] as { file_id: string } | { file_id: string }[];
        const fileId = Array.isArray(field) ? field[field.length - 1]!.file_id : field.file_id;
        const res = await fetch(await ctx.telegram.getFileLink(fileId));
        received.push(`${kind}:${message['caption'] ?? ''}:${Buffer.from(await res.arrayBuffer()).toString()}`);
        if (kind === 'photo') await ctx.replyWithPhoto(fileId, { caption: 'got it' });
      });
      let polling!: Promise<void>;
      await new Promise<void>((resolve, reject) => {
        polling = bot.launch({ dropPendingUpdates: false }, resolve);
        polling.catch(reject);
      });
      try {
        const alice = emu.user();
        const photo = alice.sendMedia('photo', { bytes: Buffer.from('cat'), caption: 'my cat' });
        alice.sendMedia('voice', { bytes: Buffer.from('hello'), mimeType: 'audio/ogg' });
        const reply = await alice.waitForMessage('got it');
        expect(reply.media?.file_id).to.equal(photo.photo![0]!.file_id);
        await emu.waitForIdle();
        expect(received.sort()).to.deep.equal(['photo:my cat:cat', 'voice::hello']); // a batch runs concurrently
        expect(emu.uploads()).to.deep.equal([]);
      } finally {
        bot.stop('test done');
        await polling;
      }
    });

    it("answers Telegram's error shape: deactivated user, chat not found, injected 429", async function () {
      const alice = emu.user();
      alice.sendText('/start');
      alice.deactivate();
      const url = `${emu.apiRoot}/bot${emu.token}/sendPhoto`;
      const json = (body: object): RequestInit => ({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(await rawCall(url, json({ chat_id: alice.id, photo: 'https://example.org/x.jpg' }))).to.deep.equal({
        status: 403,
        body: { ok: false, error_code: 403, description: 'Forbidden: user is deactivated' },
      });
      expect(await rawCall(url, json({ chat_id: 42, photo: 'https://example.org/x.jpg' }))).to.deep.equal({
        status: 400,
        body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' },
      });
      const bob = emu.user();
      bob.sendText('/start');
      emu.failNext('sendPhoto', { error_code: 429, retry_after: 5 });
      expect(await rawCall(url, json({ chat_id: bob.id, photo: 'https://example.org/x.jpg' }))).to.deep.equal({
        status: 429,
        body: {
          ok: false,
          error_code: 429,
          description: 'Too Many Requests: retry after 5',
          parameters: { retry_after: 5 },
        },
      });
      expect(emu.calls('sendPhoto').map((c) => c.status)).to.deep.equal([403, 400, 429]);
    });

    it('applies the per-chat and global flood limits to sendPhoto', async function () {
      const tight = await startEmulator({ limits: { globalBurst: 4, globalPerSecond: 4 } });
      try {
        const client = new Telegraf(tight.token, { telegram: { apiRoot: tight.apiRoot } });
        const alice = tight.user();
        const bob = tight.user();
        alice.sendText('/start');
        bob.sendText('/start');
        const codes = async (chatId: number, n: number): Promise<number[]> =>
          (
            await Promise.allSettled(
              Array.from({ length: n }, () => client.telegram.sendPhoto(chatId, 'https://example.org/x.jpg')),
            )
          ).map((r) => (r.status === 'fulfilled' ? 200 : (r.reason as TelegramError).code));
        const perChat = await codes(alice.id, 4); // a chat's burst is 3
        expect(perChat.filter((c) => c === 429)).to.have.length(1);
        const global = await codes(bob.id, 2); // 3 of the bot's 4 are spent
        expect(global.sort()).to.deep.equal([200, 429]);
      } finally {
        await tight.stop();
      }
    });
  });
});
