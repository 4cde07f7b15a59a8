// The sandbox web chat's HTTP side on the real emulator, a real Anvil and the test USDT: what the page reads and
// does, and every bad input answered with a clear 4xx JSON error that changes nothing.
import { createServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import http from 'node:http';
import { startAnvil, type AnvilHandle } from '../support/anvil';
import { sandboxChain } from '../support/sandbox-chain';
import { TelegramEmulator } from '../support/telegram-emulator';
import { attachWebChat, webChatUrl } from '../support/telegram-emulator/web/server';
import { attachTestUsdt, deployTestUsdt } from '../support/usdt';

const ADMIN_ID = 700_000_001;

/** A JSON answer as the spec reads it: the page's own shapes, checked by the assertions themselves. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = { status: number; body: any; type: string };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('telegram emulator: sandbox web chat', function () {
  this.timeout(60_000);
  let emulator: TelegramEmulator;
  let anvil: AnvilHandle;
  let usdtAddress: string;
  let base: string;
  const systemWallet = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720';

  const call = async (path: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> => {
    const { json, ...rest } = init;
    const response = await fetch(base + path, {
      ...rest,
      ...(json !== undefined
        ? {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...rest.headers },
            body: JSON.stringify(json),
          }
        : {}),
    });
    const type = response.headers.get('content-type') ?? '';
    const body = type.startsWith('application/json') ? await response.json() : await response.text();
    return { status: response.status, body, type };
  };
  const botApi = async (method: string, params: object) => {
    const response = await fetch(`${emulator.apiRoot}/bot${emulator.token}/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(params),
    });
    return (await response.json()) as { ok: boolean; result: { message_id: number } };
  };
  const chatCount = async () => (await call('/sandbox/api/state')).body.chats.length as number;

  before(async () => {
    anvil = await startAnvil();
    ({ address: usdtAddress } = await deployTestUsdt(anvil.wallet(0)));
    emulator = new TelegramEmulator({ enforceLimits: false });
    await emulator.start();
    attachWebChat(emulator, {
      chain: sandboxChain({ anvil, usdtAddress, systemWallet }),
      adminIds: [ADMIN_ID],
      maxUploadBytes: 1000,
    });
    base = webChatUrl(emulator).replace(/\/$/, '');
  });
  after(async () => {
    await emulator?.stop();
    await anvil?.stop();
  });

  it('serves the page beside the Bot API, and a fixed port when asked', async () => {
    const page = await call('/');
    expect(page.status).to.equal(200);
    expect(page.type).to.contain('text/html');
    expect(page.body).to.contain('/sandbox/app.js');
    expect((await call('/sandbox/render.js')).status).to.equal(200);
    expect((await botApi('getMe', {})).ok).to.equal(true);
    const missing = await call('/sandbox/api/nothing');
    expect(missing.status).to.equal(404);
    expect(missing.body.error).to.match(/no such route/);

    const port = await freePort();
    const fixed = new TelegramEmulator();
    await fixed.start({ port });
    expect(fixed.apiRoot).to.equal(`http://127.0.0.1:${port}`);
    await fixed.stop();
    await new TelegramEmulator().start({ port: 70_000 }).then(
      () => expect.fail('port 70000 was accepted'),
      (error: Error) => expect(error.message).to.match(/bad port 70000/),
    );
  });

  it('creates users from the page (admin, deep-link start code) and lists users created by code', async () => {
    const before = await chatCount();
    for (const [body, status, error] of [
      [{ name: '' }, 400, /name/],
      [{ name: 'x'.repeat(65) }, 400, /name/],
      [{ name: 'Eve', language: 'de' }, 400, /language/],
      [{ name: 'Eve', start: 'bad code!' }, 400, /start code/],
      [{ name: 'Eve', admin: 'yes' }, 400, /admin/],
    ] as const) {
      const answer = await call('/sandbox/api/users', { json: body });
      expect(answer.status, JSON.stringify(body)).to.equal(status);
      expect(answer.body.error).to.match(error);
    }
    const notJson = await call('/sandbox/api/users', { method: 'POST', body: 'name=Eve' });
    expect(notJson.status).to.equal(415);
    const foreign = await call('/sandbox/api/users', {
      json: { name: 'Eve' },
      headers: { Origin: 'http://evil.test' },
    });
    expect(foreign.status).to.equal(403);
    // DNS rebinding: another site's name resolved to 127.0.0.1 arrives with its own Host header.
    const rebound = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ name: 'Eve' });
      const request = http.request(
        `${base}/sandbox/api/users`,
        { method: 'POST', headers: { Host: 'evil.test', 'Content-Type': 'application/json' } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.once('error', reject);
      request.end(body);
    });
    expect(rebound).to.equal(403);
    expect(await chatCount()).to.equal(before);

    const created = await call('/sandbox/api/users', { json: { name: 'Dana', language: 'ru', start: 'ref_42' } });
    expect(created.status).to.equal(201);
    const dana = emulator.findUser(created.body.id)!;
    expect(dana.info).to.include({ first_name: 'Dana', language_code: 'ru' });
    expect(dana.transcript()[0]!.message.text).to.equal('/start ref_42');

    const admin = await call('/sandbox/api/users', { json: { name: 'Carol', admin: true } });
    expect(admin.body.id).to.equal(ADMIN_ID);
    const second = await call('/sandbox/api/users', { json: { name: 'Carl', admin: true } });
    expect(second.status).to.equal(409);

    emulator.user({ first_name: 'Alice' }).sendText('/start');
    const state = (await call('/sandbox/api/state')).body;
    expect(state.chats.map((c: { name: string }) => c.name)).to.include.members(['Dana', 'Carol', 'Alice']);
    expect(state.chats.find((c: { name: string }) => c.name === 'Carol').admin).to.equal(true);
    expect(state.freeAdminIds).to.deep.equal([]);
  });

  it('shows both sides with entities, edits and deletions, and presses inline and reply keyboard buttons', async () => {
    const user = emulator.user({ first_name: 'Frank' });
    user.sendText('/start');
    const sent = await botApi('sendMessage', {
      chat_id: user.id,
      text: '<b>Menu</b> <tg-spoiler>secret</tg-spoiler>',
      parse_mode: 'HTML',
      reply_markup: {
        inline_keyboard: [
          [
            { text: 'Balance', callback_data: 'menu:balance' },
            { text: 'Site', url: 'https://example.com' },
          ],
        ],
      },
    });
    await botApi('sendMessage', { chat_id: user.id, text: 'Pick', reply_markup: { keyboard: [['Yes', 'No']] } });
    const gone = await botApi('sendMessage', { chat_id: user.id, text: 'to be deleted' });
    await botApi('deleteMessage', { chat_id: user.id, message_id: gone.result.message_id });
    await botApi('editMessageText', {
      chat_id: user.id,
      message_id: sent.result.message_id,
      text: '<b>Menu</b> (edited)',
      parse_mode: 'HTML',
      reply_markup: { inline_keyboard: [[{ text: 'Balance', callback_data: 'menu:balance' }]] },
    });

    const view = (await call(`/sandbox/api/chats/${user.id}`)).body;
    expect(view.messages.map((m: { text: string }) => m.text)).to.deep.equal(['/start', 'Menu (edited)', 'Pick']);
    const menu = view.messages[1];
    expect(menu).to.include({ fromBot: true, edited: true });
    expect(menu.entities).to.deep.equal([{ type: 'bold', offset: 0, length: 4 }]);
    expect(menu.inlineKeyboard).to.deep.equal([[{ text: 'Balance', data: 'menu:balance' }]]);
    expect(view.replyKeyboard).to.deep.equal([['Yes', 'No']]);

    const queued = emulator.pendingUpdateCount;
    const wrong = await call(`/sandbox/api/chats/${user.id}/press`, { json: { messageId: menu.id, data: 'nope' } });
    expect(wrong.status).to.equal(400);
    expect(wrong.body.error).to.match(/no inline button/);
    expect(emulator.pendingUpdateCount).to.equal(queued); // no callback query
    const pressed = await call(`/sandbox/api/chats/${user.id}/press`, {
      json: { messageId: menu.id, data: 'menu:balance' },
    });
    expect(pressed.status).to.equal(200);
    expect(emulator.pendingUpdateCount).to.equal(queued + 1);

    expect((await call(`/sandbox/api/chats/${user.id}/key`, { json: { text: 'Maybe' } })).status).to.equal(400);
    expect((await call(`/sandbox/api/chats/${user.id}/key`, { json: { text: 'Yes' } })).status).to.equal(200);
    expect(user.transcript().at(-1)!.message.text).to.equal('Yes');

    expect((await call(`/sandbox/api/chats/${user.id}/text`, { json: { text: '   ' } })).status).to.equal(400);
    expect((await call(`/sandbox/api/chats/${user.id}/text`, { json: { text: 'x'.repeat(4097) } })).status).to.equal(
      400,
    );
    expect((await call('/sandbox/api/chats/123/text', { json: { text: 'hi' } })).status).to.equal(404);
    expect((await call(`/sandbox/api/chats/${user.id}/text`, { json: { text: 'hello' } })).status).to.equal(200);
    expect(user.transcript().at(-1)!.message.text).to.equal('hello');
  });

  it('takes photos and documents from the page within the size limit and serves files by file_id', async () => {
    const user = emulator.user({ first_name: 'Gina' });
    const upload = (kind: string, bytes: Buffer, type: string) =>
      call(`/sandbox/api/chats/${user.id}/media?kind=${kind}&name=pic.png&caption=look`, {
        method: 'POST',
        headers: { 'Content-Type': type },
        body: bytes,
      });
    const tooBig = await upload('photo', Buffer.alloc(1001, 1), 'image/png');
    expect(tooBig.status).to.equal(413);
    expect((await upload('photo', Buffer.from('not an image'), 'text/plain')).status).to.equal(400);
    expect((await upload('voice', Buffer.from('x'), 'audio/ogg')).status).to.equal(400);
    expect(user.transcript()).to.have.length(0);

    const bytes = Buffer.from('\x89PNG fake image bytes');
    expect((await upload('photo', bytes, 'image/png')).status).to.equal(200);
    const [message] = (await call(`/sandbox/api/chats/${user.id}`)).body.messages;
    expect(message).to.include({ fromBot: false, text: 'look' });
    expect(message.media).to.include({ kind: 'photo', mimeType: null });
    const file = await fetch(`${base}/sandbox/files/${message.media.fileId}`);
    expect(file.headers.get('content-type')).to.equal('image/png');
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).to.equal(true);
    expect((await call('/sandbox/files/unknown')).status).to.equal(404);
  });

  it('gives each user a sandbox wallet, deposits to the system wallet, mines and shows the transaction', async () => {
    const user = emulator.user({ first_name: 'Hank' });
    const wallet = (await call(`/sandbox/api/chain/wallets/${user.id}`)).body;
    expect(wallet.address).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(anvil.accounts.map((a) => a.address)).not.to.include(wallet.address);
    expect(wallet).to.include({ usdt: '0', bnb: '10.0000' });
    expect((await call(`/sandbox/api/chain/wallets/${user.id}`)).body.address).to.equal(wallet.address);

    for (const amount of ['-1', 'abc', '1e3', '0', '2000000', 5]) {
      const answer = await call('/sandbox/api/chain/deposit', { json: { userId: user.id, amount } });
      expect(answer.status, String(amount)).to.equal(400);
      expect(answer.body.error).to.match(/amount/);
    }
    expect((await call('/sandbox/api/chain/deposit', { json: { userId: 1, amount: '5' } })).status).to.equal(404);
    const usdt = attachTestUsdt(usdtAddress, anvil.provider);
    expect(await usdt.balanceOf(systemWallet)).to.equal(0n);

    const deposit = await call('/sandbox/api/chain/deposit', { json: { userId: user.id, amount: '12.5' } });
    expect(deposit.status).to.equal(200);
    const head = (await call('/sandbox/api/chain/mine', { json: { blocks: 2 } })).body.head;
    const tx = (await call(`/sandbox/api/chain/tx/${deposit.body.hash}`)).body;
    expect(tx).to.include({ status: 'success', confirmations: 3, block: head - 2 });
    expect(tx.usdt).to.deep.equal({ from: wallet.address, to: systemWallet, amount: '12.5' });
    expect((await call(`/sandbox/api/chain/wallets/${user.id}`)).body.usdt).to.equal('0');

    expect((await call('/sandbox/api/chain/mine', { json: { blocks: 0 } })).status).to.equal(400);
    expect((await call('/sandbox/api/chain/mine', { json: { blocks: 101 } })).status).to.equal(400);
    expect((await call('/sandbox/api/chain/tx/0x1234')).status).to.equal(400);
    expect((await call(`/sandbox/api/chain/tx/0x${'ab'.repeat(32)}`)).status).to.equal(404);
    expect(await anvil.blockNumber()).to.equal(head);

    const registered = await call(`/sandbox/api/chats/${user.id}/register-wallet`, { json: {} });
    expect(registered.status).to.equal(200);
    expect(user.transcript().at(-1)!.message.text).to.equal(`/wallet ${wallet.address}`);
  });

  it('pushes a server-sent event for every chat change', async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/sandbox/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).to.equal('text/event-stream');
    const reader = response.body!.getReader();
    const user = emulator.user({ first_name: 'Ivy' });
    user.sendText('hi');
    let received = '';
    while (!received.includes(`event: chat\ndata: ${user.id}\n\n`)) {
      const { value, done } = await reader.read();
      if (done) break;
      received += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    expect(received).to.contain(`data: ${user.id}`);
  });
});
