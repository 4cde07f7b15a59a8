// The withdrawal dialog and the admins' withdrawal commands end to end on real parts: telegraf against the project's
// Telegram Bot API emulator, with the users, ledger and notifier services on PostgreSQL, Redis and NATS.
import { expect } from 'chai';
import { randomBytes, randomInt } from 'node:crypto';
import type { Config } from '../../services';
import { parseAmount } from '../../lib/money';
import { createRedis, type Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { botGatewayService } from '../../services/bot-gateway/bot-gateway.service';
import { ledgerService } from '../../services/ledger/ledger.service';
import { userBalance } from '../../services/ledger/queries';
import { notifierService } from '../../services/notifier/notifier.service';
import { usersService } from '../../services/users/users.service';
import { buttonsOf, press, send } from '../support/bot-dialog';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { creditTestDeposit } from '../support/deposits';
import { deleteNamespaceStreams } from '../support/nats';
import { quiesce } from '../support/quiesce';
import { deleteNamespaceKeys } from '../support/redis';
import {
  TelegramEmulator,
  type RecordedMessage,
  type SimulatedUser,
  type SimulatedUserOptions,
} from '../support/telegram-emulator';

process.env.LOG_LEVEL ??= 'warn';

const usdt = (text: string) => parseAmount(text, 18);
const walletOf = () => `0x${randomBytes(20).toString('hex')}`;
const PASSWORD = 'Kx7mPq92zW';
const ADMIN_EN = randomInt(100_000, 900_000);
const ADMIN_RU = ADMIN_EN + 1;

interface Person {
  tg: SimulatedUser;
  id: string;
  wallet: string;
}

describe('withdrawal dialog', function () {
  this.timeout(90_000);
  let db: TestDatabase;
  let redis: Redis;
  let emulator: TelegramEmulator;
  let config: Config;
  let node: Node;

  before(async () => {
    db = await createTestDatabase('withdraw');
    redis = createRedis('redis://127.0.0.1:6379');
    emulator = new TelegramEmulator({ enforceLimits: false });
    await emulator.start();
    config = testConfig({
      DATABASE_URL: db.url,
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      RATE_LIMIT_MAX_REQUESTS: '1000',
      ADMIN_TELEGRAM_IDS: `${ADMIN_EN},${ADMIN_RU}`,
      WITHDRAWAL_MIN: '10',
      WITHDRAWAL_FEE: '1',
      WITHDRAWAL_AUTO_APPROVE_LIMIT: '100',
      PASSWORD_MAX_FAILURES: '3',
      // The retry job's first tick is an hour away.
      NOTIFICATION_RETRY_INTERVAL_MS: '3600000',
    });
    node = await startNode(config, [usersService, botGatewayService, ledgerService, notifierService], { db, redis });
  });

  after(async () => {
    await node?.stop();
    await emulator?.stop();
    if (config) await deleteNamespaceKeys(redis, config.NAMESPACE);
    redis?.disconnect();
    await db?.drop();
    if (config) await deleteNamespaceStreams(config.NAMESPACE);
  });

  const settle = () =>
    quiesce({
      pool: db.pool,
      outboxes: ['users_outbox', 'ledger_outbox'],
      namespace: config.NAMESPACE,
      consumers: [
        ['notifications.requested', 'notifier'],
        ['alerts.raised', 'notifier'],
      ],
      emulator,
    });

  /** A registered user with a wallet (and, if asked, a balance and a financial password). */
  async function person(options: SimulatedUserOptions & { funds?: string; password?: string } = {}): Promise<Person> {
    const { funds, password, ...tgOptions } = options;
    const tg = emulator.user({ language_code: 'en', ...tgOptions });
    const wallet = walletOf();
    await send(tg, `/wallet ${wallet}`, /Wallet saved|Кошелёк сохранён/);
    const { rows } = await db.pool.query<{ id: string; wallet_address: string }>(
      'SELECT id::text, wallet_address FROM users WHERE telegram_id = $1',
      [tg.id],
    );
    const me = { tg, id: rows[0]!.id, wallet: rows[0]!.wallet_address };
    if (funds) await creditTestDeposit(db.pool, me.id, usdt(funds));
    if (password) await node.broker.call('users.setWithdrawalPassword', { userId: me.id, password });
    return me;
  }

  const balance = (userId: string) => userBalance(db.prisma, userId);

  const withdrawalsOf = async (userId: string) =>
    (
      await db.pool.query<{ id: string; status: string; amount: string; decided_by: string | null }>(
        'SELECT id::text, status, amount::text, decided_by FROM withdrawals WHERE user_id = $1 ORDER BY id',
        [userId],
      )
    ).rows;

  const holdsOf = async (userId: string) =>
    Number(
      (
        await db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM journal_transfers t JOIN withdrawals w ON w.id = t.withdrawal_id
           WHERE w.user_id = $1 AND t.kind = 'withdrawal_hold'`,
          [userId],
        )
      ).rows[0]!.n,
    );

  /** Whatever was going to happen has, and nothing was requested or held: the balance is as funded. */
  async function expectNothingWithdrawn(me: Person, funds: string): Promise<void> {
    await settle();
    expect(await withdrawalsOf(me.id)).to.have.length(0);
    expect(await holdsOf(me.id)).to.equal(0);
    expect(await balance(me.id)).to.deep.equal({ available: usdt(funds), held: 0n });
  }

  /** Sends a financial password; resolves with the bot's answer once the message is gone from the chat. */
  async function sendPassword(tg: SimulatedUser, password: string, answer: RegExp): Promise<RecordedMessage> {
    const sent = tg.sendText(password);
    const reply = await tg.waitForMessage((m) => m.message_id > sent.message_id && answer.test(m.text));
    expect(tg.wasDeleted(sent), `the password message ${JSON.stringify(password)} is deleted`).to.equal(true);
    return reply;
  }

  /** /withdraw <amount> with the password already set, up to the confirmation. */
  async function confirmation(me: Person, amount: string): Promise<RecordedMessage> {
    await send(me.tg, `/withdraw ${amount}`, /Send your financial password to confirm/);
    return sendPassword(me.tg, PASSWORD, /Please confirm your withdrawal/);
  }

  const buttonOf = (message: RecordedMessage, prefix: string) => {
    const data = buttonsOf(message).find((d) => d.startsWith(prefix));
    expect(data, `a ${prefix} button under: ${message.text}`).to.be.a('string');
    return data!;
  };

  /** Confirms and resolves once the confirmation has become the request's receipt; returns the withdrawal id. */
  async function confirm(me: Person, message: RecordedMessage): Promise<string> {
    me.tg.pressButton(message, buttonOf(message, 'wd:ok:'));
    const done = await me.tg.waitForMessage(
      (m) => m.message_id === message.message_id && m.edits > 0 && /#\d+/.test(m.text),
    );
    return /#(\d+)/.exec(done.text)![1]!;
  }

  /** A message of the bot with these buttons, in a chat where the bot never sent them (an old or forged button). */
  async function plantButton(tg: SimulatedUser, data: string): Promise<RecordedMessage> {
    const response = await fetch(`${emulator.apiRoot}/bot${emulator.token}/sendMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        chat_id: tg.id,
        text: `Old message ${data}`,
        reply_markup: { inline_keyboard: [[{ text: 'Press', callback_data: data }]] },
      }),
    });
    expect(response.status).to.equal(200);
    return tg.waitForMessage(`Old message ${data}`);
  }

  const answerTo = async (tg: SimulatedUser, data: string, count = 1) => {
    await tg.waitForMessage(() => tg.callbackAnswers().filter((a) => a.data === data).length >= count);
    return tg.callbackAnswers().filter((a) => a.data === data);
  };

  describe('for users', () => {
    it('sets a financial password on first use, deletes every password message, and a double tap requests one withdrawal with one hold', async () => {
      const me = await person({ funds: '100' });
      const ask = await send(me.tg, '/withdraw', /How much do you want to withdraw/);
      expect(ask.text).to.contain('Available: 100 USDT').and.contain(me.wallet);
      expect(buttonsOf(ask)).to.have.length(1);
      expect(buttonsOf(ask)[0]).to.match(/^wd:no:/);

      const setIt = await send(me.tg, '25.5', /Set a financial password/);
      expect(setIt.text).to.contain('letters and digits').and.contain('8 to 64 characters');
      // Too short: refused after it is repeated, with the rule it breaks.
      await sendPassword(me.tg, 'abc1', /once more/);
      await sendPassword(me.tg, 'abc1', /must be 8 to 64 characters/);
      // A typo in the repetition sets nothing.
      await sendPassword(me.tg, PASSWORD, /once more/);
      await sendPassword(me.tg, `${PASSWORD}x`, /The two passwords differ, so none was set/);
      expect((await node.broker.call('users.get', { userId: me.id })) as object).to.include({
        hasWithdrawalPassword: false,
      });
      await sendPassword(me.tg, PASSWORD, /once more/);
      await sendPassword(me.tg, PASSWORD, /Your financial password is set/);
      const confirmMessage = await me.tg.waitForMessage(/Please confirm your withdrawal/);
      expect(confirmMessage.text).to.contain('Amount: 25.5 USDT').and.contain('Fee: 1 USDT');
      expect(confirmMessage.text).to.contain('Total from your balance: 26.5 USDT').and.contain(me.wallet);
      expect(confirmMessage.text).to.not.contain('An admin reviews');

      // Nothing is held before the confirmation.
      expect(await withdrawalsOf(me.id)).to.have.length(0);

      const ok = buttonOf(confirmMessage, 'wd:ok:');
      me.tg.pressButton(confirmMessage, ok);
      me.tg.pressButton(confirmMessage, ok);
      const done = await me.tg.waitForMessage(
        (m) => m.message_id === confirmMessage.message_id && /Withdrawal #\d+ is requested/.test(m.text),
      );
      expect(buttonsOf(done)).to.deep.equal([]);
      const answers = await answerTo(me.tg, ok, 2);
      const [row] = await withdrawalsOf(me.id);
      expect(
        answers.filter((a) => a.text === `This withdrawal is already requested (#${row!.id}): nothing new was done.`),
      ).to.have.length(1);

      await me.tg.waitForMessage(new RegExp(`Withdrawal #${row!.id} is requested: 25.5 USDT`));
      await me.tg.waitForMessage(new RegExp(`Withdrawal #${row!.id} of 25.5 USDT is approved`));
      await settle();
      expect(await withdrawalsOf(me.id)).to.deep.equal([
        { id: row!.id, status: 'approved', amount: usdt('25.5').toString(), decided_by: null },
      ]);
      expect(await holdsOf(me.id)).to.equal(1);
      expect(await balance(me.id)).to.deep.equal({ available: usdt('73.5'), held: usdt('26.5') });
      expect(((await node.broker.call('ledger.check')) as { problems: string[] }).problems).to.deep.equal([]);
    });

    it('asks for the password on every withdrawal, deletes a wrong one, and locks politely after repeated failures', async () => {
      const me = await person({ funds: '50', password: PASSWORD });
      await send(me.tg, '/withdraw 20', /Send your financial password to confirm the withdrawal of 20 USDT/);
      await sendPassword(me.tg, 'Wrong1pass', /Wrong password\. Attempts left .*: 2\./);
      // A password may start with "/": it is still a password, not a command.
      await sendPassword(me.tg, '/Wrong2pass', /Wrong password\. Attempts left .*: 1\./);
      const locked = await sendPassword(me.tg, 'Wrong3pass', /Too many wrong passwords/);
      expect(locked.text).to.match(/try again from \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in (29|30) minutes\)/);

      // Locked: even the right password does not pass, and it does not stay in the chat either.
      await send(me.tg, '/withdraw 20', /Send your financial password/);
      await sendPassword(me.tg, PASSWORD, /Too many wrong passwords/);
      await expectNothingWithdrawn(me, '50');
    });

    it('refuses what cannot be withdrawn with the reason, changing nothing', async () => {
      const me = await person({ funds: '30', password: PASSWORD });
      const ask = await send(me.tg, '/withdraw', /How much/);
      const cancel = buttonOf(ask, 'wd:no:');
      const refusals: [string, RegExp][] = [
        ['12.0000000000000000001', /USDT has at most 18 decimal places/],
        ['5', /The smallest withdrawal is 10 USDT/],
        ['29.5', /Not enough funds: you have 30 USDT available, and the amount plus the withdrawal fee/],
        ['30', /Not enough funds/],
        ['0', /The amount must be more than zero/],
        ['1,5', /with a point, not a comma/],
        ['ten dollars', /That is not an amount/],
      ];
      for (const [text, reason] of refusals) {
        const answer = await send(me.tg, text, /❌/);
        expect(answer.text, text).to.match(reason);
        // The dialog still waits for an amount.
        expect(buttonsOf(answer), text).to.deep.equal([cancel]);
      }
      expect((await send(me.tg, '/withdraw 9.99', /❌/)).text).to.contain('The smallest withdrawal is 10 USDT');
      // The most that fits: 30 available = 29 + the fee of 1.
      expect((await send(me.tg, '/withdraw 29', /Send your financial password/)).text).to.contain('29 USDT');
      await expectNothingWithdrawn(me, '30');
    });

    it('asks a user without a wallet to register one first', async () => {
      const tg = emulator.user({ language_code: 'en' });
      const menu = await send(tg, '/start', /Welcome/);
      const answer = await press(tg, menu, 'menu:withdraw', /Register your wallet first/);
      expect(answer.text).to.contain('withdrawals are sent only to your registered wallet');
      expect(buttonsOf(answer)).to.deep.equal(['menu:wallet']);
      expect((await send(tg, '/withdraw 10', /Register your wallet first/)).text).to.contain('/wallet');
      await send(tg, '10', /I didn't understand that/);
    });

    it('after a wallet change, explains the pause (account takeover defence) and when withdrawals open again', async () => {
      const me = await person({ funds: '40', password: PASSWORD });
      await send(me.tg, `/wallet ${walletOf()}`, /Wallet saved/);
      const paused = await send(me.tg, '/withdraw 10', /paused after a wallet change/);
      expect(paused.text).to.contain('To protect your account').and.contain('as exchanges do');
      expect(paused.text).to.contain('took over your Telegram account');
      expect(paused.text).to.match(
        /You can withdraw again from \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 2[34] hours \d+ minutes?\)/,
      );
      // The dialog is over: a number now is not an amount.
      await send(me.tg, '10', /I didn't understand that/);
      await expectNothingWithdrawn(me, '40');
    });

    it('answers a stale or unknown confirmation clearly and changes nothing', async () => {
      const me = await person({ funds: '100', password: PASSWORD });
      const first = await confirmation(me, '20');
      const second = await confirmation(me, '30');
      // A newer dialog replaced the first: its buttons do nothing.
      const stale = buttonOf(first, 'wd:ok:');
      me.tg.pressButton(first, stale);
      const [answer] = await answerTo(me.tg, stale);
      expect(answer).to.include({ show_alert: true });
      expect(answer!.text).to.match(/^This button is no longer valid, so nothing was done/);
      // One the bot never made.
      const forged = 'wd:ok:AAAAAAAAAAAAAAAA';
      me.tg.pressButton(await plantButton(me.tg, forged), forged);
      expect((await answerTo(me.tg, forged))[0]!.text).to.match(/no longer valid/);
      // Cancelling the current one ends it; its confirm button is gone.
      const cancelled = await press(me.tg, second, buttonOf(second, 'wd:no:'), /the withdrawal is cancelled/);
      expect(cancelled.text).to.contain('Nothing was changed');
      expect(buttonsOf(me.tg.messages().find((m) => m.message_id === second.message_id)!)).to.deep.equal([]);
      await expectNothingWithdrawn(me, '100');
    });

    it('settles a dialog once when Confirm and Cancel are pressed together, and starts over after a refusal at Confirm', async () => {
      const me = await person({ funds: '100', password: PASSWORD });
      const both = await confirmation(me, '20');
      const [ok, no] = [buttonOf(both, 'wd:ok:'), buttonOf(both, 'wd:no:')];
      me.tg.pressButton(both, ok);
      me.tg.pressButton(both, no);
      const [okAnswer] = await answerTo(me.tg, ok);
      const [noAnswer] = await answerTo(me.tg, no);
      await settle();
      const rows = await withdrawalsOf(me.id);
      // Whichever was handled first decides; the other one says so.
      if (rows.length === 1) {
        expect(noAnswer!.text).to.match(/confirmed first and is being requested|already requested/);
        expect(await balance(me.id)).to.deep.equal({ available: usdt('79'), held: usdt('21') });
      } else {
        expect(rows).to.have.length(0);
        expect(okAnswer!.text).to.match(/no longer valid/);
        expect(await balance(me.id)).to.deep.equal({ available: usdt('100'), held: 0n });
      }

      const late = await person({ funds: '60', password: PASSWORD });
      const stale = await confirmation(late, '50');
      // Meanwhile the balance shrinks: another withdrawal of the same user.
      await node.broker.call('ledger.requestWithdrawal', {
        userId: late.id,
        amount: usdt('20').toString(),
        idempotencyKey: 'elsewhere',
      });
      late.tg.pressButton(stale, buttonOf(stale, 'wd:ok:'));
      const refused = await late.tg.waitForMessage(
        (m) => m.message_id > stale.message_id && /Not enough funds: you have 39 USDT available/.test(m.text),
      );
      // A new dialog: the next amount goes straight to its confirmation (the password was given already).
      expect(buttonsOf(refused)).to.not.include(buttonOf(stale, 'wd:no:'));
      const again = await send(late.tg, '30', /Please confirm your withdrawal/);
      expect(again.text).to.contain('Amount: 30 USDT');
      await confirm(late, again);
      await settle();
      expect((await withdrawalsOf(late.id)).map((w) => w.amount)).to.deep.equal([
        usdt('20').toString(),
        usdt('30').toString(),
      ]);
      expect(await balance(late.id)).to.deep.equal({ available: usdt('8'), held: usdt('52') });
    });

    it('/withdrawals lists the withdrawals with their status; cancelling one that waits for approval returns its hold', async () => {
      const me = await person({ funds: '500', password: PASSWORD });
      const small = await confirm(me, await confirmation(me, '20'));
      const bigConfirmation = await confirmation(me, '150');
      expect(bigConfirmation.text).to.contain('An admin reviews withdrawals of this size');
      const big = await confirm(me, bigConfirmation);
      await me.tg.waitForMessage(new RegExp(`Withdrawal #${big} of 150 USDT waits for an admin's approval`));
      expect(await balance(me.id)).to.deep.equal({ available: usdt('328'), held: usdt('172') });

      const list = await send(me.tg, '/withdrawals', /Your recent withdrawals/);
      expect(list.text).to.contain(`#${big} · 150 USDT · ⏳ waiting for approval`);
      expect(list.text).to.contain(`#${small} · 20 USDT · 🚀 approved, being sent`);
      expect(buttonsOf(list)).to.deep.equal([`wl:cancel:${big}`]);

      me.tg.pressButton(list, `wl:cancel:${big}`);
      const [answer] = await answerTo(me.tg, `wl:cancel:${big}`);
      expect(answer!.text).to.equal(`Withdrawal #${big} is cancelled: 151 USDT is back on your balance.`);
      const updated = await me.tg.waitForMessage(
        (m) => m.message_id === list.message_id && m.text.includes(`#${big} · 150 USDT · ✖️ cancelled`),
      );
      expect(buttonsOf(updated)).to.not.include(`wl:cancel:${big}`);
      await me.tg.waitForMessage(new RegExp(`Withdrawal #${big} of 150 USDT is cancelled`));
      await settle();
      expect(await balance(me.id)).to.deep.equal({ available: usdt('479'), held: usdt('21') });
      expect((await withdrawalsOf(me.id)).map((w) => w.status)).to.deep.equal(['approved', 'cancelled']);

      // An approved withdrawal cannot be cancelled, even by an old button.
      me.tg.pressButton(await plantButton(me.tg, `wl:cancel:${small}`), `wl:cancel:${small}`);
      expect((await answerTo(me.tg, `wl:cancel:${small}`))[0]!.text).to.equal(
        `Withdrawal #${small} can no longer be cancelled: it is 🚀 approved, being sent.`,
      );
      // Nor can someone else's.
      const other = await person();
      other.tg.pressButton(await plantButton(other.tg, `wl:cancel:${small}`), `wl:cancel:${small}`);
      expect((await answerTo(other.tg, `wl:cancel:${small}`))[0]!.text).to.equal('This withdrawal was not found.');
      await settle();
      expect(await balance(me.id)).to.deep.equal({ available: usdt('479'), held: usdt('21') });
    });

    it('speaks Russian to Russian users', async () => {
      const ivan = await person({ language_code: 'ru', funds: '60' });
      const ask = await send(ivan.tg, '/withdraw', /Сколько вы хотите вывести/);
      expect(ask.text).to.contain('Доступно: 60 USDT');
      expect((await send(ivan.tg, '5', /❌/)).text).to.contain('Минимальная сумма вывода — 10 USDT');
      expect((await send(ivan.tg, '70', /❌/)).text).to.contain('Недостаточно средств');
      await send(ivan.tg, '15', /Установите финансовый пароль/);
      await sendPassword(ivan.tg, PASSWORD, /ещё раз/);
      await sendPassword(ivan.tg, PASSWORD, /Финансовый пароль установлен/);
      const confirmMessage = await ivan.tg.waitForMessage(/Подтвердите вывод/);
      expect(confirmMessage.text).to.contain('Сумма: 15 USDT').and.contain('Всего спишется с баланса: 16 USDT');
      const id = await confirm(ivan, confirmMessage);
      expect(ivan.tg.messages().find((m) => m.message_id === confirmMessage.message_id)!.text).to.contain(
        `Заявка на вывод #${id} создана`,
      );
      await ivan.tg.waitForMessage(new RegExp(`Вывод #${id} на 15 USDT одобрен`));
      expect((await send(ivan.tg, '/withdrawals', /Ваши последние выводы/)).text).to.contain('одобрен, отправляется');
    });
  });

  describe('for admins', () => {
    let admin: SimulatedUser;
    let adminRu: SimulatedUser;

    before(async () => {
      admin = emulator.user({ id: ADMIN_EN, language_code: 'en', first_name: 'Ada' });
      adminRu = emulator.user({ id: ADMIN_RU, language_code: 'ru', first_name: 'Пётр' });
      await send(admin, '/start', /Welcome/);
      await send(adminRu, '/start', /Добро пожаловать/);
    });

    /** A withdrawal above the auto-approval limit, waiting for an admin. */
    async function pendingWithdrawal(options: SimulatedUserOptions = {}, amount = '150') {
      const me = await person({ ...options, funds: '500', password: PASSWORD });
      await send(me.tg, `/withdraw ${amount}`, /password|пароль/);
      await confirm(me, await sendPassword(me.tg, PASSWORD, /Please confirm|Подтвердите/));
      const [row] = await withdrawalsOf(me.id);
      expect(row!.status).to.equal('pending_approval');
      return { me, id: row!.id };
    }

    it('hear of a withdrawal waiting for approval, list them with /pending, and approve and reject them by button', async () => {
      const a = await pendingWithdrawal({ first_name: 'Anna' }, '150');
      const b = await pendingWithdrawal({ first_name: 'Boris' }, '200');
      const alert = await admin.waitForMessage(new RegExp(`#${b.id}: 200 USDT of user #${b.me.id}`));
      expect(alert.text).to.contain(`/approve ${b.id}`).and.contain(`/reject ${b.id}`);
      await adminRu.waitForMessage(new RegExp(`#${b.id}: 200 USDT пользователя #${b.me.id}`));

      const list = await send(admin, '/pending', /Withdrawals waiting for approval/);
      expect(list.text)
        .to.contain(`#${a.id} · 150 USDT (fee 1)`)
        .and.contain(`user #${a.me.id} Anna (Telegram ${a.me.tg.id})`);
      expect(list.text).to.contain(`#${b.id} · 200 USDT`).and.contain(`to ${b.me.wallet}`);
      expect(buttonsOf(list)).to.include.members([
        `adm:ok:${a.id}`,
        `adm:no:${a.id}`,
        `adm:ok:${b.id}`,
        `adm:no:${b.id}`,
      ]);

      const approved = await press(admin, list, `adm:ok:${a.id}`, /is approved/);
      expect(approved.text).to.equal(`✅ Withdrawal #${a.id} (150 USDT) is approved: it goes to the payout now.`);
      await admin.waitForMessage((m) => m.message_id === list.message_id && !m.text.includes(`#${a.id} ·`));
      await a.me.tg.waitForMessage(new RegExp(`Withdrawal #${a.id} of 150 USDT is approved`));

      const ask = await press(admin, list, `adm:no:${b.id}`, /Send the reason for rejecting/);
      expect(ask.text).to.contain(`#${b.id} (200 USDT)`);
      const rejected = await send(admin, 'The wallet could not be verified', /is rejected/);
      expect(rejected.text).to.contain('Reason given to the user: The wallet could not be verified');
      const told = await b.me.tg.waitForMessage(new RegExp(`Withdrawal #${b.id} of 200 USDT was rejected`));
      expect(told.text).to.contain('Reason: The wallet could not be verified').and.contain('back on your balance');

      await settle();
      expect(await withdrawalsOf(a.me.id)).to.deep.include({
        id: a.id,
        status: 'approved',
        amount: usdt('150').toString(),
        decided_by: String(ADMIN_EN),
      });
      expect((await withdrawalsOf(b.me.id))[0]).to.include({ status: 'rejected', decided_by: String(ADMIN_EN) });
      expect(await balance(b.me.id)).to.deep.equal({ available: usdt('500'), held: 0n });
      expect(await balance(a.me.id)).to.deep.equal({ available: usdt('349'), held: usdt('151') });
    });

    it('approve and reject by command, in their own language, and are told what cannot be done', async () => {
      const c = await pendingWithdrawal({ language_code: 'ru' }, '120');
      const d = await pendingWithdrawal({}, '130');

      expect((await send(adminRu, '/pending', /Выводы, ожидающие одобрения/)).text).to.contain(`#${c.id}`);
      const rejected = await send(adminRu, `/reject ${c.id} Подозрительная активность`, /отклонён/);
      expect(rejected.text).to.contain('Причина для пользователя: Подозрительная активность');
      const told = await c.me.tg.waitForMessage(new RegExp(`Вывод #${c.id} на 120 USDT отклонён`));
      expect(told.text).to.contain('Причина: Подозрительная активность');

      expect((await send(admin, `/approve ${d.id}`, /approved|❌/)).text).to.equal(
        `✅ Withdrawal #${d.id} (130 USDT) is approved: it goes to the payout now.`,
      );
      // Repeating the same decision answers the same outcome; another one is refused with the reason.
      expect((await send(admin, `/approve ${d.id}`, /approved|❌/)).text).to.contain('is approved');
      expect((await send(admin, `/approve ${c.id}`, /❌/)).text).to.equal(
        `❌ Withdrawal #${c.id} is ❌ rejected, so this cannot be done.`,
      );
      expect((await send(adminRu, `/reject ${d.id} поздно`, /❌/)).text).to.contain('одобрен, отправляется');
      expect((await send(admin, '/approve 987654321', /❌/)).text).to.equal('❌ There is no withdrawal #987654321.');
      expect((await send(admin, '/approve', /Usage/)).text).to.contain('/approve <id>');
      expect((await send(admin, `/reject ${d.id}`, /Usage/)).text).to.contain('/reject <id> <reason>');
      expect((await send(admin, '/void x', /Usage/)).text).to.contain('/void <id> <reason>');
      expect((await send(admin, '/retry', /Usage/)).text).to.contain('/retry <id>');
      // /void of a withdrawal that still waits is refused by the ledger (only approved ones are voided).
      const e = await pendingWithdrawal({}, '110');
      expect((await send(admin, `/void ${e.id} duplicate`, /❌/)).text).to.contain('⏳ waiting for approval');
      // The Reject button's reason prompt can be left without rejecting.
      const list = await send(admin, '/pending', /Withdrawals waiting for approval/);
      const prompt = await press(admin, list, `adm:no:${e.id}`, /Send the reason/);
      admin.pressButton(prompt, `adm:keep:${e.id}`);
      await admin.waitForMessage((m) => m.message_id === prompt.message_id && /was not rejected/.test(m.text));
      await send(admin, 'not a reason any more', /I didn't understand that/);

      await settle();
      expect((await withdrawalsOf(c.me.id))[0]).to.include({ status: 'rejected', decided_by: String(ADMIN_RU) });
      expect((await withdrawalsOf(d.me.id))[0]).to.include({ status: 'approved', decided_by: String(ADMIN_EN) });
      expect((await withdrawalsOf(e.me.id))[0]).to.include({ status: 'pending_approval' });
      expect(await balance(c.me.id)).to.deep.equal({ available: usdt('500'), held: 0n });
    });

    it('see the admin commands in /help; anyone else is not told they exist and changes nothing', async () => {
      expect((await send(admin, '/help', /SigmaTrade bot/)).text)
        .to.contain('/pending')
        .and.contain('/retry');
      const f = await pendingWithdrawal();
      const eve = await person({ first_name: 'Eve' });
      expect((await send(eve.tg, '/help', /SigmaTrade bot/)).text).to.not.contain('/pending');
      for (const command of [
        '/pending',
        `/approve ${f.id}`,
        `/reject ${f.id} because`,
        `/void ${f.id} x`,
        `/retry ${f.id}`,
      ]) {
        const answer = await send(eve.tg, command, /I don't know the command/);
        expect(answer.text, command).to.contain(command.split(' ')[0]);
      }
      for (const data of [`adm:ok:${f.id}`, `adm:no:${f.id}`]) {
        eve.tg.pressButton(await plantButton(eve.tg, data), data);
        expect((await answerTo(eve.tg, data))[0]!.text).to.match(/This button is no longer valid/);
      }
      await settle();
      expect((await withdrawalsOf(f.me.id))[0]).to.include({ status: 'pending_approval', decided_by: null });
    });
  });
});
