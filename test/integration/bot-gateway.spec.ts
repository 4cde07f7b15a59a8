// The bot end to end on real parts: telegraf against the project's Telegram Bot API emulator (long polling and
// webhook through the HTTP gateway), PostgreSQL, Redis and NATS, with the users and ledger services.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { apiGatewayService } from '../../gateway/api.service';
import type { Config } from '../../services';
import { createRedis, type Redis } from '../../lib/redis';
import { startNode, type Node, type ServiceDefinition } from '../../lib/runtime';
import { botGatewayService } from '../../services/bot-gateway/bot-gateway.service';
import { mirrorBan } from '../../services/bot-gateway/ban-mirror';
import { gatewayKeys } from '../../services/bot-gateway/redis-keys';
import { chainMonitorService } from '../../services/chain-monitor/chain-monitor.service';
import { usersService } from '../../services/users/users.service';
import { ledgerService } from '../../services/ledger/ledger.service';
import { testConfig } from '../support/config';
import { startAnvil, type AnvilHandle } from '../support/anvil';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { quiesce } from '../support/quiesce';
import { buttonsOf, press, pressInPlace, send } from '../support/bot-dialog';
import { eventually } from '../support/system';
import { deployTestUsdt } from '../support/usdt';
import { TelegramEmulator, type SimulatedUser, type SimulatedUserOptions } from '../support/telegram-emulator';

process.env.LOG_LEVEL ??= 'warn';

const SYSTEM_WALLET = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const walletOf = () => `0x${randomBytes(20).toString('hex')}`;

function botConfig(db: TestDatabase, emulator: TelegramEmulator, overrides: Record<string, string> = {}): Config {
  return testConfig({
    DATABASE_URL: db.url,
    TELEGRAM_BOT_TOKEN: emulator.token,
    TELEGRAM_API_ROOT: emulator.apiRoot,
    SYSTEM_WALLET_ADDRESS: SYSTEM_WALLET,
    RATE_LIMIT_MAX_REQUESTS: '1000',
    ...overrides,
  });
}

describe('bot-gateway', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let redis: Redis;
  let ledger: ServiceDefinition;

  before(async () => {
    db = await createTestDatabase('bot');
    redis = createRedis('redis://127.0.0.1:6379');
    ledger = ledgerService;
  });
  after(async () => {
    redis?.disconnect();
    await db?.drop();
  });

  const userRow = async (telegramId: number) =>
    (
      await db.pool.query<{
        id: string;
        wallet_address: string | null;
        referrer_id: string | null;
        referral_code: string;
      }>('SELECT id, wallet_address, referrer_id, referral_code FROM users WHERE telegram_id = $1', [telegramId])
    ).rows;

  describe('in long polling mode', () => {
    let emulator: TelegramEmulator;
    let node: Node;
    const user = (options: SimulatedUserOptions = {}) => emulator.user({ language_code: 'en', ...options });

    let anvil: AnvilHandle;

    before(async () => {
      emulator = new TelegramEmulator({ enforceLimits: false });
      await emulator.start();
      // chain-monitor answers the deposit terms the bot shows (on a local chain with a test USDT).
      anvil = await startAnvil();
      const { address: usdt } = await deployTestUsdt(anvil.wallet(0));
      node = await startNode(
        botConfig(db, emulator, { BSC_RPC_URLS: anvil.rpcUrl, USDT_CONTRACT: usdt }),
        [usersService, botGatewayService, ledger, chainMonitorService],
        { db, redis },
      );
    });
    after(async () => {
      await node?.stop();
      await emulator?.stop();
      await anvil?.stop();
    });

    it('welcomes a new user with the menu and a returning user differently', async () => {
      const ann = user({ first_name: 'Ann' });
      const first = await send(ann, '/start');
      expect(first.text).to.match(/^👋 Welcome to SigmaTrade, Ann!/);
      expect(first.parse_mode).to.equal('HTML');
      expect(buttonsOf(first)).to.include.members([
        'menu:deposit',
        'menu:balance',
        'menu:withdraw',
        'menu:wallet',
        'menu:referrals',
        'menu:help',
      ]);
      expect(await userRow(ann.id)).to.have.length(1);

      const again = await send(ann, '/start');
      expect(again.text).to.match(/^👋 Welcome back, Ann!/);
      expect(await userRow(ann.id)).to.have.length(1);
    });

    it('links A→B→C→D through invitation links: D has uplines C, B, A at levels 1, 2, 3', async () => {
      const [a, b, c, d] = ['A', 'B', 'C', 'D'].map((name) => user({ first_name: name }));
      await send(a!, '/start');
      let inviter = a!;
      for (const invited of [b!, c!, d!]) {
        const link = await send(inviter, '/referrals', /start=/);
        const code = /https:\/\/t\.me\/sigmatrade_test_bot\?start=([A-Za-z0-9_-]+)/.exec(link.text)?.[1];
        expect(code, link.text).to.be.a('string');
        const welcome = await send(invited, `/start ${code}`);
        expect(welcome.text).to.contain('Welcome to SigmaTrade').and.contain('You joined through an invitation link');
        inviter = invited;
      }
      const [rowA, rowB, rowC, rowD] = await Promise.all([a!, b!, c!, d!].map(async (u) => (await userRow(u.id))[0]!));
      expect(await node.broker.call('users.uplines', { userId: rowD!.id })).to.deep.equal([
        { level: 1, userId: rowC!.id },
        { level: 2, userId: rowB!.id },
        { level: 3, userId: rowA!.id },
      ]);

      const referrals = await send(a!, '/referrals', /Referral program/);
      expect(referrals.text).to.contain('Level 1: 1 person, earned 0 USDT');
      expect(referrals.text).to.contain('Level 2: 1 person');
      expect(referrals.text).to.contain('Level 3: 1 person');
      expect(referrals.text).to.contain(`https://t.me/sigmatrade_test_bot?start=${rowA!.referral_code}`);
    });

    it('refuses a self-referral, an unknown code and a re-click by an existing user politely, changing nothing', async () => {
      const a = user({ first_name: 'Alice' });
      const b = user({ first_name: 'Bert' });
      const other = user({ first_name: 'Olga' });
      await send(a, '/start');
      await send(other, '/start');
      const [rowA] = await userRow(a.id);
      const [rowOther] = await userRow(other.id);
      await send(b, `/start ${rowA!.referral_code}`, /invitation link/);

      const self = await send(b, `/start ${(await userRow(b.id))[0]!.referral_code}`);
      expect(self.text).to.contain('Welcome back').and.contain("You can't use your own invitation link");

      const reclick = await send(b, `/start ${rowOther!.referral_code}`);
      expect(reclick.text).to.contain('You are already registered').and.contain('nothing was changed');

      const stranger = user({ first_name: 'Sam' });
      const unknown = await send(stranger, '/start NoSuchCode');
      expect(unknown.text).to.contain('Welcome to SigmaTrade').and.contain('This invitation link is not valid');

      expect((await userRow(b.id))[0]!.referrer_id).to.equal(rowA!.id);
      expect((await userRow(stranger.id))[0]!.referrer_id).to.equal(null);
      expect(await node.broker.call('users.uplines', { userId: (await userRow(b.id))[0]!.id })).to.deep.equal([
        { level: 1, userId: rowA!.id },
      ]);
    });

    it('registers a user whose /start carries 4,000 characters and refuses the code politely', async () => {
      for (const payload of ['x'.repeat(4000), 'A'.repeat(65), 'not a code!']) {
        const sam = user({ first_name: 'Long' });
        const reply = await send(sam, `/start ${payload}`);
        expect(reply.text).to.contain('Welcome to SigmaTrade').and.contain('This invitation link is not valid');
        const [row] = await userRow(sam.id);
        expect(row, payload.slice(0, 20)).to.include({ referrer_id: null });
        const again = await send(sam, `/start ${payload}`);
        expect(again.text).to.contain('Welcome back').and.contain('This invitation link is not valid');
      }
    });

    it('creates one row for 20 simultaneous /start of one user', async () => {
      const eager = user({ first_name: 'Eager' });
      for (let i = 0; i < 20; i++) eager.sendText('/start');
      await emulator.waitForIdle(20_000);
      await eager.waitForMessage(() => eager.messages().length >= 20);
      expect(await userRow(eager.id)).to.have.length(1);
      const texts = eager.messages().map((m) => m.text);
      expect(texts.filter((text) => text.includes('Welcome to SigmaTrade'))).to.have.length(1);
      expect(texts.filter((text) => text.includes('Welcome back'))).to.have.length(19);
    });

    it('/wallet with a lowercase address stores it checksummed', async () => {
      const walt = user();
      await send(walt, '/start');
      const saved = await send(walt, '/wallet 0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359');
      expect(saved.text).to.contain('Wallet saved').and.contain('0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359');
      expect((await userRow(walt.id))[0]!.wallet_address).to.equal('0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359');
    });

    it('/wallet asks for the address, refuses bad ones with the reason, stores nothing until a good one', async () => {
      const owner = user();
      const taken = walletOf();
      await send(owner, `/wallet ${taken}`, /Wallet saved/);

      const vera = user();
      const ask = await send(vera, '/wallet');
      expect(ask.text).to.contain('You have no wallet registered yet').and.contain('Send me the address');
      expect(buttonsOf(ask)).to.deep.equal(['wallet:cancel']);

      const refusals: [string, RegExp][] = [
        ['0xFB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', /checksum \(EIP-55\) does not match/],
        ['0x1234', /must be 0x followed by 40 hexadecimal/],
        ['hello', /must be 0x followed by 40 hexadecimal/],
        [taken, /already registered by another user/],
        [SYSTEM_WALLET.toLowerCase(), /platform's deposit address/],
        ['0x0000000000000000000000000000000000000000', /zero address/],
      ];
      for (const [address, reason] of refusals) {
        const answer = await send(vera, address);
        expect(answer.text, address).to.match(reason);
      }
      expect((await userRow(vera.id))[0]!.wallet_address).to.equal(null);

      const mine = walletOf();
      const saved = await send(vera, mine);
      expect(saved.text).to.contain('Wallet saved');
      expect((await userRow(vera.id))[0]!.wallet_address!.toLowerCase()).to.equal(mine);

      // The dialog is over: the next text is not taken as an address.
      const after = await send(vera, walletOf());
      expect(after.text).to.contain("I didn't understand that");
      expect((await userRow(vera.id))[0]!.wallet_address!.toLowerCase()).to.equal(mine);

      // Showing the wallet again, then cancelling, changes nothing.
      const shown = await send(vera, '/wallet');
      expect(shown.text.toLowerCase()).to.contain(mine);
      const cancelled = await pressInPlace(vera, shown, 'wallet:cancel');
      expect(cancelled.text).to.contain('your wallet was not changed');
      await send(vera, walletOf(), /I didn't understand that/);
      expect((await userRow(vera.id))[0]!.wallet_address!.toLowerCase()).to.equal(mine);
    });

    it('/deposit asks for a wallet first, then shows the levels, the system wallet, the wallet to send from and the confirmations', async () => {
      const dora = user();
      const noWallet = await send(dora, '/deposit');
      expect(noWallet.text).to.contain('Register your wallet first');
      expect(buttonsOf(noWallet)).to.deep.equal(['menu:wallet']);

      const wallet = walletOf();
      const saved = await send(dora, `/wallet ${wallet}`, /Wallet saved/);
      const checksummed = /0x[0-9a-fA-F]{40}/.exec(saved.text)![0];
      const deposit = await send(dora, '/deposit');
      for (const line of [
        'Level 1: from 10 USDT',
        'Level 2: from 50 USDT',
        'Level 3: from 100 USDT',
        'Level 4: from 250 USDT',
        'Level 5: from 500 USDT',
        'Level 6: from 1000 USDT',
      ]) {
        expect(deposit.text).to.contain(line);
      }
      expect(deposit.text).to.contain(SYSTEM_WALLET).and.contain(checksummed).and.contain('12 block confirmations');
    });

    it('/balance shows the ledger balance', async () => {
      const bill = user();
      const balance = await send(bill, '/balance');
      expect(balance.text).to.contain('Available: 0 USDT').and.contain('On hold for withdrawals: 0 USDT');
    });

    const MENU = ['menu:deposit', 'menu:balance', 'menu:withdraw', 'menu:wallet', 'menu:referrals', 'menu:help'];

    it('opens each menu screen in the menu message itself, and Back brings the menu back there', async () => {
      const mia = user();
      const menu = await send(mia, '/start');
      const screens: [string, RegExp, string[]][] = [
        ['menu:deposit', /Register your wallet first/, ['menu:wallet', 'menu:home']],
        ['menu:balance', /Your balance/, ['menu:home']],
        ['menu:referrals', /Referral program/, ['menu:home']],
        ['menu:help', /\/deposit - how to deposit/, ['menu:home']],
      ];
      let presses = 0;
      for (const [data, text, buttons] of screens) {
        const screen = await pressInPlace(mia, menu, data, text);
        expect(buttonsOf(screen), data).to.deep.equal(buttons);
        const back = await pressInPlace(mia, screen, 'menu:home', /SigmaTrade: choose an action/);
        expect(buttonsOf(back), `back from ${data}`).to.deep.equal(MENU);
        presses += 2;
      }
      // The wallet prompt's Cancel is its way back; a screen's own button (Wallet under Deposit) stays in place too.
      const wallet = await pressInPlace(mia, menu, 'menu:wallet', /Send me the address/);
      expect(buttonsOf(wallet)).to.deep.equal(['wallet:cancel']);
      const cancelled = await pressInPlace(mia, wallet, 'wallet:cancel', /your wallet was not changed/);
      expect(buttonsOf(cancelled)).to.deep.equal(MENU);
      const deposit = await pressInPlace(mia, cancelled, 'menu:deposit', /Register your wallet first/);
      await pressInPlace(mia, deposit, 'menu:wallet', /Send me the address/);
      presses += 4;
      // One message all along: nothing stacked up.
      expect(mia.messages().map((m) => m.message_id)).to.deep.equal([menu.message_id]);
      await mia.waitForMessage(() => mia.callbackAnswers().length === presses);

      // Withdraw starts a dialog, whose steps are messages of their own.
      await pressInPlace(mia, deposit, 'wallet:cancel', /your wallet was not changed/);
      const withdraw = await press(mia, menu, 'menu:withdraw', /Register your wallet first with \/wallet: withdrawals/);
      expect(withdraw.message_id).to.be.greaterThan(menu.message_id);
      expect(buttonsOf(withdraw)).to.deep.equal(['menu:wallet']);
    });

    it('answers a typed command with a new message that carries the menu', async () => {
      const ted = user();
      const welcome = await send(ted, '/start');
      const balance = await send(ted, '/balance', /Your balance/);
      const help = await send(ted, '/help', /\/deposit - how to deposit/);
      expect(buttonsOf(balance)).to.deep.equal(MENU);
      expect(buttonsOf(help)).to.deep.equal(MENU);
      await quiesce({ emulator });
      expect(ted.messages().map((m) => m.message_id)).to.deep.equal([
        welcome.message_id,
        balance.message_id,
        help.message_id,
      ]);
      expect(ted.messages().every((m) => m.edits === 0)).to.equal(true);
    });

    it('sends a screen anew only when Telegram will not edit the menu message, and takes a press that changes nothing quietly', async () => {
      const max = user();
      const menu = await send(max, '/start');
      emulator.failNext('editMessageText', { error_code: 400, description: "Bad Request: message can't be edited" });
      const fresh = await press(max, menu, 'menu:balance', /Your balance/);
      expect(buttonsOf(fresh)).to.deep.equal(['menu:home']);
      expect(max.messages().find((m) => m.message_id === menu.message_id)!.edits).to.equal(0);

      // Back pressed twice before the bot answers: the second edit would change nothing ("message is not modified").
      max.pressButton(fresh, 'menu:home');
      max.pressButton(fresh, 'menu:home');
      await max.waitForMessage(() => max.callbackAnswers().length === 3);
      await quiesce({ emulator });
      expect(max.messages().map((m) => m.message_id)).to.deep.equal([menu.message_id, fresh.message_id]);
      const back = max.messages().find((m) => m.message_id === fresh.message_id)!;
      expect(back.text).to.contain('choose an action');
      expect(back.edits).to.equal(1);
      expect(
        emulator
          .calls('editMessageText')
          .filter((c) => c.status === 400 && /not modified/.test(JSON.stringify(c.response))),
      ).to.have.length(1);
    });

    it('answers an unknown command and an unknown button clearly', async () => {
      const uma = user();
      const unknown = await send(uma, '/frobnicate now');
      expect(unknown.text).to.contain("I don't know the command /frobnicate");

      // A message from an older bot version, with a button this one does not know.
      const response = await fetch(`${emulator.apiRoot}/bot${emulator.token}/sendMessage`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          chat_id: uma.id,
          text: 'Old menu',
          reply_markup: { inline_keyboard: [[{ text: 'Old', callback_data: 'legacy:v0:deposit' }]] },
        }),
      });
      const old = ((await response.json()) as { result: { message_id: number } }).result;
      uma.pressButton(old.message_id, 'legacy:v0:deposit');
      await uma.waitForMessage(() => uma.callbackAnswers().length === 1);
      expect(uma.callbackAnswers()[0]).to.include({ data: 'legacy:v0:deposit', show_alert: true });
      expect(uma.callbackAnswers()[0]!.text).to.contain('no longer valid');
    });

    it('speaks Russian to a Russian user', async () => {
      const ivan = user({ first_name: 'Иван', language_code: 'ru' });
      const welcome = await send(ivan, '/start');
      expect(welcome.text).to.match(/^👋 Добро пожаловать в SigmaTrade, Иван!/);
      const menu =
        welcome.reply_markup && 'inline_keyboard' in welcome.reply_markup
          ? welcome.reply_markup.inline_keyboard.flat().map((b) => b.text)
          : [];
      expect(menu).to.include('💰 Пополнить');
      expect((await send(ivan, '/balance')).text).to.contain('Доступно: 0 USDT');
      expect((await send(ivan, '/wallet 0x12')).text).to.contain('Это не адрес кошелька');
    });

    it('escapes user-provided names in HTML', async () => {
      const eve = user({ first_name: '<b>Eve</b> & co' });
      const welcome = await send(eve, '/start');
      expect(welcome.text).to.contain('Welcome to SigmaTrade, <b>Eve</b> & co!');
      expect(
        welcome.entities.filter((e) => e.type === 'bold').map((e) => welcome.text.substr(e.offset, e.length)),
      ).to.deep.equal(['SigmaTrade']);
    });

    it("waits out Telegram's per-chat flood limit instead of losing replies", async () => {
      emulator.enforceLimits = true;
      try {
        const quick = user();
        const commands: [string, RegExp][] = [
          ['/start', /Welcome (to SigmaTrade|back)/], // other commands of the batch may register the user first
          ['/help', /\/deposit - how to deposit/],
          ['/balance', /Your balance/],
          ['/referrals', /Referral program/],
          ['/deposit', /Register your wallet first/],
          ['/help', /\/deposit - how to deposit/],
        ];
        for (const [command] of commands) quick.sendText(command);
        await quick.waitForMessage(() => quick.messages().length === commands.length, 20_000);
        await emulator.waitForIdle();
        const texts = quick.messages().map((m) => m.text);
        for (const [command, reply] of commands) {
          expect(texts.filter((text) => reply.test(text)).length, command).to.be.greaterThan(0);
        }
        expect(texts).to.have.length(commands.length);
        expect(emulator.calls('sendMessage').some((c) => c.status === 429)).to.equal(true);
      } finally {
        emulator.enforceLimits = false;
      }
    });

    it('answers a banned user with the ban message only, until unbanned', async () => {
      const bob = user();
      await send(bob, '/start');
      const [row] = await userRow(bob.id);
      const mirrored = (banned: boolean) =>
        eventually(
          async () => (await redis.exists(`${node.runtime.config.NAMESPACE}:ban:${bob.id}`)) === (banned ? 1 : 0),
          `the ban mirror to say ${banned}`,
        );
      await node.broker.call('users.ban', { userId: row!.id, banned: true });
      await mirrored(true);

      const refused = await send(bob, '/balance');
      expect(refused.text).to.equal("Your account is blocked, so the bot can't serve you.");
      await quiesce({ emulator });
      expect(bob.messages().at(-1)!.message_id).to.equal(refused.message_id);

      await node.broker.call('users.ban', { userId: row!.id, banned: false });
      await mirrored(false);
      expect((await send(bob, '/balance')).text).to.contain('Your balance');
    });

    it('applies ban changes in version order whatever order they arrive in', async () => {
      const keys = gatewayKeys(node.runtime.config.NAMESPACE, emulator.token);
      const telegramId = String(800_000_000 + Math.floor(Math.random() * 100_000_000));
      const banned = async () => (await redis.exists(keys.ban(telegramId))) === 1;
      expect(await mirrorBan(redis, keys, { telegramId, banned: false, version: 2 })).to.equal(true);
      // The ban that came first arrives last: it is older, and ignored.
      expect(await mirrorBan(redis, keys, { telegramId, banned: true, version: 1 })).to.equal(false);
      expect(await banned()).to.equal(false);
      expect(await mirrorBan(redis, keys, { telegramId, banned: true, version: 3 })).to.equal(true);
      expect(await banned()).to.equal(true);
      expect(await mirrorBan(redis, keys, { telegramId, banned: true, version: 3 })).to.equal(false);
    });

    it('rebuilds the ban mirror from users when it starts (Redis keeps nothing on disk)', async () => {
      const eve = user();
      await send(eve, '/start');
      const [row] = await userRow(eve.id);
      const key = `${node.runtime.config.NAMESPACE}:ban:${eve.id}`;
      await node.broker.call('users.ban', { userId: row!.id, banned: true });
      await eventually(async () => (await redis.exists(key)) === 1, 'the ban mirrored');
      // A Redis restart loses the mirror and what it applied.
      await redis.del(key, gatewayKeys(node.runtime.config.NAMESPACE, emulator.token).banVersion(eve.id));
      const config = node.runtime.config;
      await node.stop();
      node = await startNode(config, [usersService, botGatewayService, ledger, chainMonitorService], { db, redis });
      expect(await redis.exists(key)).to.equal(1);
      await node.broker.call('users.ban', { userId: row!.id, banned: false });
      await eventually(async () => (await redis.exists(key)) === 0, 'the unban mirrored');
    });
  });

  describe('after the bot token changes on the same namespace', () => {
    it("handles the new bot's updates even when their ids equal the old bot's", async () => {
      const namespace = `tokens-${randomBytes(4).toString('hex')}`;
      const firstUpdateId = 700_000_000 + Math.floor(Math.random() * 1_000_000);
      for (const name of ['old', 'new']) {
        const emulator = new TelegramEmulator({ enforceLimits: false, firstUpdateId });
        await emulator.start();
        const node = await startNode(
          botConfig(db, emulator, { NAMESPACE: namespace }),
          [usersService, botGatewayService, ledger],
          {
            db,
            redis,
          },
        );
        try {
          const person = emulator.user({ first_name: `${name} bot user`, language_code: 'en' });
          const sent = person.sendText('/start');
          expect(sent.message_id).to.be.a('number');
          const welcome = await person.waitForMessage(/Welcome/, 10_000);
          expect(welcome.text, `${name} bot`).to.contain('Welcome');
        } finally {
          await node.stop();
          await emulator.stop();
        }
      }
    });
  });

  describe('rate limit', () => {
    let emulator: TelegramEmulator;
    let node: Node;

    before(async () => {
      emulator = new TelegramEmulator({ enforceLimits: false });
      await emulator.start();
      // No ledger on this node: /balance shows how its absence is answered.
      const config = botConfig(db, emulator, { RATE_LIMIT_MAX_REQUESTS: '3', RATE_LIMIT_WINDOW_MS: '60000' });
      node = await startNode(config, [usersService, botGatewayService], { db, redis });
    });
    after(async () => {
      await node?.stop();
      await emulator?.stop();
    });

    it('answers RATE_LIMIT_MAX_REQUESTS updates, then one polite message, then nothing', async () => {
      const spammer = emulator.user({ language_code: 'en' });
      for (let i = 0; i < 8; i++) spammer.sendText('/help');
      await emulator.waitForIdle(20_000);
      await spammer.waitForMessage(() => spammer.messages().length >= 4);
      await quiesce({ emulator });
      const texts = spammer.messages().map((m) => m.text);
      expect(texts.filter((text) => text.includes('/deposit - how to deposit'))).to.have.length(3);
      expect(texts.filter((text) => text.includes('You are sending messages too fast'))).to.have.length(1);
      expect(texts).to.have.length(4);

      // Others are not affected.
      const calm = emulator.user({ language_code: 'en' });
      expect((await send(calm, '/help')).text).to.contain('/deposit - how to deposit');
    });

    it('says the balance is temporarily unavailable when the ledger does not answer', async () => {
      const patient = emulator.user({ language_code: 'en' });
      const answer = await send(patient, '/balance');
      expect(answer.text).to.equal('This is temporarily unavailable. Please try again in a minute.');
    });
  });

  describe('in webhook mode through the HTTP gateway', () => {
    const secret = `secret_${randomBytes(8).toString('hex')}`;
    let emulator: TelegramEmulator;
    let apiNode: Node;
    let botNode: Node;
    let baseUrl: string;
    let namespace: string;

    before(async () => {
      emulator = new TelegramEmulator({ enforceLimits: false });
      await emulator.start();
      const apiConfig = botConfig(db, emulator);
      namespace = apiConfig.NAMESPACE;
      apiNode = await startNode(apiConfig, [apiGatewayService], { db, redis, broker: { nodeID: `${namespace}-api` } });
      const port = (
        apiNode.broker.getLocalService('api') as unknown as { server: { address(): AddressInfo } }
      ).server.address().port;
      baseUrl = `http://127.0.0.1:${port}`;
      // Telegram insists on https; the emulator delivers https URLs over plain HTTP, as a TLS proxy would.
      const webhookConfig = botConfig(db, emulator, {
        NAMESPACE: namespace,
        TELEGRAM_WEBHOOK_DOMAIN: `https://127.0.0.1:${port}`,
        TELEGRAM_WEBHOOK_SECRET: secret,
      });
      botNode = await startNode(webhookConfig, [usersService, botGatewayService, ledger], {
        db,
        redis,
        broker: { nodeID: `${namespace}-bot` },
      });
      await apiNode.broker.waitForServices(['bot-gateway'], 10_000);
    });
    after(async () => {
      await botNode?.stop();
      await apiNode?.stop();
      await emulator?.stop();
    });

    const postUpdate = (update: object, secretToken?: string) =>
      fetch(`${baseUrl}/telegram/webhook`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(secretToken !== undefined ? { 'X-Telegram-Bot-Api-Secret-Token': secretToken } : {}),
        },
        body: JSON.stringify(update),
      });

    const helpUpdate = (target: SimulatedUser, updateId: number) => ({
      update_id: updateId,
      message: {
        message_id: 100_000 + (updateId % 100_000),
        from: target.info,
        chat: { id: target.id, type: 'private', first_name: target.info.first_name },
        date: Math.floor(Date.now() / 1000),
        text: '/help',
        entities: [{ type: 'bot_command', offset: 0, length: 5 }],
      },
    });

    it('sets the webhook with the secret and handles updates Telegram delivers', async () => {
      const info = emulator.calls('setWebhook').at(-1)!;
      expect(info.params).to.include({
        url: `${baseUrl.replace('http:', 'https:')}/telegram/webhook`,
        secret_token: secret,
      });
      const wendy = emulator.user({ first_name: 'Wendy', language_code: 'en' });
      const welcome = await send(wendy, '/start');
      expect(welcome.text).to.contain('Welcome to SigmaTrade, Wendy!');
      await emulator.waitForIdle(); // the delivery is answered (and logged) after the bot's reply
      const deliveries = emulator.webhookDeliveries().filter((d) => d.status === 200);
      expect(deliveries.length).to.be.greaterThan(0);
      expect(deliveries.every((d) => d.secret_token === secret)).to.equal(true);
    });

    it('handles an update delivered twice only once', async () => {
      const dan = emulator.user({ language_code: 'en' });
      await send(dan, '/start');
      await emulator.waitForIdle();
      const before = dan.messages().length;
      const update = helpUpdate(dan, 700_000_000 + Math.floor(Math.random() * 100_000_000));

      const first = await postUpdate(update, secret);
      expect(first.status).to.equal(200);
      expect(await first.json()).to.deep.equal({ ok: true, duplicate: false });
      const second = await postUpdate(update, secret);
      expect(second.status).to.equal(200);
      expect(await second.json()).to.deep.equal({ ok: true, duplicate: true });

      // The action answers once the bot has replied, so nothing can still be on its way.
      expect(dan.messages()).to.have.length(before + 1);
      expect(dan.messages().at(-1)!.text).to.contain('/deposit - how to deposit');
    });

    it('refuses a forged webhook call with 401 and processes nothing', async () => {
      const fay = emulator.user({ language_code: 'en' });
      await send(fay, '/start');
      await emulator.waitForIdle();
      const before = fay.messages().length;
      const update = helpUpdate(fay, 800_000_000 + Math.floor(Math.random() * 100_000_000));

      for (const forged of ['wrong-secret', '', undefined]) {
        const response = await postUpdate(update, forged);
        expect(response.status, String(forged)).to.equal(401);
        expect(await response.json()).to.include({ ok: false, error: 'FORGED_WEBHOOK' });
      }
      const garbage = await postUpdate({ hello: 'world' }, 'wrong-secret');
      expect(garbage.status).to.equal(401);

      await quiesce({ emulator });
      expect(fay.messages()).to.have.length(before);
      // Not even claimed: the genuine delivery of this update would still be handled.
      expect(await redis.exists(gatewayKeys(namespace, emulator.token).update(update.update_id))).to.equal(0);
      expect((await postUpdate(update, secret)).status).to.equal(200);
      await fay.waitForMessage(() => fay.messages().length === before + 1);
    });

    it('answers 400 to a well-authenticated body that is not an update', async () => {
      expect((await postUpdate({ hello: 'world' }, secret)).status).to.equal(400);
    });

    it('answers /health/live and /health/ready', async () => {
      const live = await fetch(`${baseUrl}/health/live`);
      expect(live.status).to.equal(200);
      expect(await live.json()).to.deep.equal({ status: 'ok' });

      const ready = await fetch(`${baseUrl}/health/ready`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({
        status: 'ok',
        checks: { broker: 'ok', jetstream: 'ok', postgres: 'ok', redis: 'ok' },
        failed: [],
        dryRun: null, // no payout service runs here
      });
    });

    it('answers /health/ready with 503 naming the dependency that is down', async () => {
      const deadRedis = createRedis('redis://127.0.0.1:1');
      deadRedis.on('error', () => undefined);
      const config = botConfig(db, emulator);
      const broken = await startNode(config, [apiGatewayService], { db, redis: deadRedis });
      try {
        const port = (
          broken.broker.getLocalService('api') as unknown as { server: { address(): AddressInfo } }
        ).server.address().port;
        const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
        expect(ready.status).to.equal(503);
        const body = (await ready.json()) as { status: string; failed: string[]; checks: Record<string, string> };
        expect(body.status).to.equal('unavailable');
        expect(body.failed).to.deep.equal(['redis']);
        expect(body.checks.postgres).to.equal('ok');
        expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).to.equal(200);
      } finally {
        await broken.stop();
        deadRedis.disconnect();
      }
    });

    it('refuses bodies over 1 MB', async () => {
      const response = await postUpdate({ update_id: 1, padding: 'x'.repeat(1_100_000) }, secret);
      expect(response.status).to.equal(413);
    });
  });
});
