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
});
