// The sandbox web chat in a real browser (Debian's chromium, headless, through playwright-core) on the whole
// system: two people join (the second by the first's referral link), one registers a sandbox wallet and deposits
// from the chain panel, both read what the bot tells them, and a menu button is pressed. Assertions read the DOM.
import { expect } from 'chai';
import { launchBrowser, type HeadlessBrowser } from '../support/browser';
import { attachSandboxWebChat } from '../support/sandbox-chain';
import { startSystem, type TestSystem } from '../support/system';
import { WebChatPage } from '../support/web-chat-page';

describe('sandbox web chat, in a browser', function () {
  this.timeout(180_000);
  let system: TestSystem;
  let browser: HeadlessBrowser;
  let chat: WebChatPage;

  before(async () => {
    system = await startSystem({ confirmations: 3 });
    const url = attachSandboxWebChat(system);
    browser = await launchBrowser();
    chat = new WebChatPage(browser.page);
    await chat.open(url);
  });
  after(async () => {
    await browser?.close();
    await system?.stop();
  });

  it('joins by referral link, deposits from the chain panel, shows credit and commission, presses a menu button', async () => {
    const { page } = chat;
    await chat.newUser('Alice');
    const welcome = await chat.waitForBot(/Welcome to SigmaTrade, Alice/);
    expect(await welcome.locator('b').first().textContent()).to.equal('SigmaTrade'); // <b> from the bold entity

    await chat.send('/referrals');
    const referrals = await chat.waitForBot(/Referral program/);
    const link = referrals.locator('a[href*="start="]').first();
    const code = /start=([\w-]+)/.exec((await link.getAttribute('href')) ?? '')?.[1];
    expect(code, 'a referral link in the message').to.be.a('string');
    await link.click(); // a referral link of this bot opens "new user" with its start code
    expect(await page.inputValue('#new-start')).to.equal(code);
    await chat.newUser('Bob', { dialogOpen: true });
    await chat.waitForBot(/You joined through an invitation link/);
    expect(await page.locator('#chat-list li').allTextContents()).to.have.length(2);

    await page.locator('#wallet-owner', { hasText: 'Bob' }).waitFor(); // the chain panel shows Bob's wallet
    const address = (await page.textContent('#wallet-address'))!.trim();
    await page.click('#register-wallet');
    expect(address).to.match(/^0x[0-9a-fA-F]{40}$/);
    await chat.waitForBot(/Wallet saved/);
    expect(await chat.botMessage(/Wallet saved/).textContent()).to.contain(address);

    await page.fill('#deposit-amount', '150');
    await page.click('#deposit-form button');
    const detected = await chat.waitForBot(/We see your deposit of 150 USDT/);
    const hash = (await detected.locator('a.tx-link').first().textContent())!;
    expect(hash).to.match(/^0x[0-9a-f]{64}$/);
    await detected.locator('a.tx-link').first().click();
    const view = page.locator('#tx-view');
    await view.locator('dd', { hasText: '150 USDT' }).waitFor();
    expect(await view.textContent())
      .to.contain(hash)
      .and.contain(address)
      .and.contain(system.systemWallet);

    await page.fill('#mine-count', '3');
    await page.click('#mine-form button');
    await chat.waitForBot(/Your deposit of 150 USDT is credited/);
    // The deposit's block and the three mined after it: the transaction view counts four confirmations or more.
    await page
      .locator('#tx-confirmations')
      .filter({ hasText: /^([4-9]|\d{2,})$/ })
      .waitFor();

    await chat.openChat('Alice');
    await chat.waitForBot(/You earned 7\.5 USDT referral commission \(level 1\) from Bob/);
    await chat.pressInline(/Welcome to SigmaTrade/, /Balance/);
    const balance = await chat.waitForBot(/Your balance/);
    expect(await balance.textContent()).to.contain('Available: 7.5 USDT');
  });

  it('renders what the bot sends as Telegram does: entities, albums, voice, documents, edits and deletions', async () => {
    const { page } = chat;
    // The bot's own token, as a second sender beside the running bot: it waits out 429s as a bot must.
    const botApi = async (method: string, body: FormData | object): Promise<{ message_id: number }> => {
      for (;;) {
        const response = await fetch(`${system.emulator.apiRoot}/bot${system.emulator.token}/${method}`, {
          method: 'POST',
          ...(body instanceof FormData
            ? { body }
            : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
        });
        const answer = (await response.json()) as {
          ok: boolean;
          result: { message_id: number };
          description?: string;
          parameters?: { retry_after?: number };
        };
        if (answer.parameters?.retry_after !== undefined) {
          await new Promise((resolve) => setTimeout(resolve, answer.parameters!.retry_after! * 1000));
          continue;
        }
        expect(answer.ok, `${method}: ${answer.description}`).to.equal(true);
        return answer.result;
      }
    };
    await chat.openChat('Alice');
    const chatId = Number(await page.getAttribute('#chat-list li.active', 'data-chat-id'));
    const text = await botApi('sendMessage', {
      chat_id: chatId,
      parse_mode: 'HTML',
      text:
        '<i>italic</i> <code>code</code> <a href="https://example.com/">link</a> <tg-spoiler>hidden</tg-spoiler> ' +
        '&lt;script&gt;alert(1)&lt;/script&gt;\n<pre><code class="language-ts">const x = 1;</code></pre>',
    });
    const bubble = page.locator(`.msg[data-message-id="${text.message_id}"]`);
    await bubble.waitFor();
    expect(await bubble.locator('i').textContent()).to.equal('italic');
    expect(await bubble.locator('a[href="https://example.com/"]').textContent()).to.equal('link');
    expect(await bubble.locator('.spoiler').textContent()).to.equal('hidden');
    expect(await bubble.locator('pre code').textContent()).to.equal('const x = 1;');
    expect(await bubble.textContent()).to.contain('<script>alert(1)</script>');
    expect(await page.locator('#messages script').count()).to.equal(0);

    const album = new FormData();
    album.set('chat_id', String(chatId));
    album.set(
      'media',
      JSON.stringify([
        { type: 'photo', media: 'attach://a', caption: 'two photos' },
        { type: 'photo', media: 'attach://b' },
      ]),
    );
    album.set('a', new Blob([Buffer.from('first')], { type: 'image/png' }), 'a.png');
    album.set('b', new Blob([Buffer.from('second')], { type: 'image/png' }), 'b.png');
    await botApi('sendMediaGroup', album);
    await page.locator('.msg .album img.photo').nth(1).waitFor();
    expect(await page.locator('.msg', { has: page.locator('.album') }).textContent()).to.contain('two photos');

    const voice = new FormData();
    voice.set('chat_id', String(chatId));
    voice.set('voice', new Blob([Buffer.from('ogg')], { type: 'audio/ogg' }), 'note.ogg');
    await botApi('sendVoice', voice);
    const document = new FormData();
    document.set('chat_id', String(chatId));
    document.set('document', new Blob([Buffer.from('a,b\n1,2\n')], { type: 'text/csv' }), 'report.csv');
    await botApi('sendDocument', document);
    await page.locator('.msg audio').waitFor({ state: 'attached' });
    const file = page.locator('.msg a.file', { hasText: 'report.csv' });
    await file.waitFor();
    const served = await fetch(new URL((await file.getAttribute('href'))!, system.emulator.apiRoot));
    expect(await served.text()).to.equal('a,b\n1,2\n');

    await botApi('editMessageText', { chat_id: chatId, message_id: text.message_id, text: 'edited in place' });
    await bubble.filter({ hasText: 'edited in place' }).waitFor();
    expect(await bubble.locator('.meta').textContent()).to.match(/^edited/);
    await botApi('deleteMessage', { chat_id: chatId, message_id: text.message_id });
    await bubble.waitFor({ state: 'detached' });
  });
});
