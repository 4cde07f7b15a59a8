// The emulator's flood limits beyond one chat and the whole bot: 20 messages a minute per group, the paid budget
// of allow_paid_broadcast (per-chat still applies), and Telegram unreachable (refused connections) and back.
import { expect } from 'chai';
import { Telegraf, TelegramError } from 'telegraf';
import { TelegramEmulator, type TelegramEmulatorOptions } from '../support/telegram-emulator';

const codeOf = (r: PromiseSettledResult<unknown>) =>
  r.status === 'fulfilled' ? 200 : (r.reason as TelegramError).code;

describe('TelegramEmulator limits', function () {
  this.timeout(30_000);
  const started: TelegramEmulator[] = [];
  const emulator = async (options: TelegramEmulatorOptions = {}) => {
    const emu = new TelegramEmulator(options);
    await emu.start();
    started.push(emu);
    return { emu, telegram: new Telegraf(emu.token, { telegram: { apiRoot: emu.apiRoot } }).telegram };
  };
  afterEach(async () => Promise.all(started.splice(0).map((e) => e.stop())));

  it('lets a group take 20 messages a minute and answers the 21st with 429 and retry_after', async () => {
    // A loose per-chat limit isolates the group's own.
    const { emu, telegram } = await emulator({ limits: { perChatPerSecond: 100, perChatBurst: 100 } });
    const group = emu.group({ title: 'Traders' });
    expect(group.id).to.be.below(0);
    for (let i = 1; i <= 20; i++) await telegram.sendMessage(group.id, `news ${i}`);
    const refused = await telegram.sendMessage(group.id, 'one too many').then(
      () => expect.fail('expected 429'),
      (e: unknown) => e as TelegramError,
    );
    expect(refused.code).to.equal(429);
    // One message more after 60 s / 20 = 3 s.
    expect(refused.parameters?.retry_after).to.equal(3);
    expect(refused.description).to.equal('Too Many Requests: retry after 3');
    expect(group.messages().map((m) => m.text)).to.have.length(20);
    expect(group.messages()[0]).to.include({ chat_id: group.id, text: 'news 1' });
    // Another group, and a private chat, have budgets of their own.
    const other = emu.group();
    await telegram.sendMessage(other.id, 'hello');
    expect(other.messages()).to.have.length(1);
    const alice = emu.user();
    alice.sendText('/start');
    await telegram.sendMessage(alice.id, 'hello');
    // A group also keeps to the per-chat limit: by default 3 at once, then 1/s.
    const strict = await emulator();
    const g = strict.emu.group();
    const codes = (
      await Promise.allSettled(Array.from({ length: 4 }, (_, i) => strict.telegram.sendMessage(g.id, `m${i}`)))
    ).map(codeOf);
    expect(codes.sort()).to.deep.equal([200, 200, 200, 429]);
  });

  it('takes paid broadcasts from their own 1,000/s budget, still at most 3 at once per chat', async () => {
    const { emu, telegram } = await emulator();
    const users = Array.from({ length: 200 }, () => emu.user());
    users.forEach((u) => u.sendText('/start'));
    // telegraf's types predate allow_paid_broadcast; it passes the parameter through as is.
    const paid = { allow_paid_broadcast: true } as never;
    const codes = (await Promise.allSettled(users.map((u) => telegram.sendMessage(u.id, 'paid news', paid)))).map(
      codeOf,
    );
    // 200 at once: far above the free 30, inside the paid burst.
    expect(codes.filter((c) => c === 200)).to.have.length(200);
    // The free budget is untouched by them.
    const free = (await Promise.allSettled(users.slice(0, 30).map((u) => telegram.sendMessage(u.id, 'free')))).map(
      codeOf,
    );
    expect(free.filter((c) => c === 200)).to.have.length(30);
    const one = users[0]!;
    const more = (
      await Promise.allSettled(Array.from({ length: 3 }, () => telegram.sendMessage(one.id, 'again', paid)))
    ).map(codeOf);
    // Two sends already went to this chat: one more fits its burst of 3.
    expect(more.sort()).to.deep.equal([200, 429, 429]);
  });

  it('refuses connections while Telegram is unreachable, and keeps its chats when it is back on the same port', async () => {
    const { emu, telegram } = await emulator();
    const alice = emu.user();
    alice.sendText('/start');
    await telegram.sendMessage(alice.id, 'before');
    const apiRoot = emu.apiRoot;
    await emu.refuseConnections();
    // Let the client see its kept-alive socket closed (a request on it at that very moment is reset instead).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const error = (await telegram.sendMessage(alice.id, 'during').then(
      () => expect.fail('expected a connection error'),
      (e: unknown) => e,
    )) as { code?: string; errno?: string };
    expect(error.code ?? error.errno).to.equal('ECONNREFUSED');
    await emu.acceptConnections();
    expect(emu.apiRoot).to.equal(apiRoot);
    await telegram.sendMessage(alice.id, 'after');
    expect(alice.messages().map((m) => m.text)).to.deep.equal(['before', 'after']);
    expect(emu.calls('sendMessage').map((c) => c.status)).to.deep.equal([200, 200]);
  });
});
