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

    await page.click('#register-wallet');
    const address = (await page.textContent('#wallet-address'))!.trim();
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
    await page.locator('#wallets td', { hasText: 'Bob' }).waitFor();

    await chat.openChat('Alice');
    await chat.waitForBot(/You earned 7\.5 USDT referral commission \(level 1\) from Bob/);
    await chat.pressInline(/Welcome to SigmaTrade/, /Balance/);
    const balance = await chat.waitForBot(/Your balance/);
    expect(await balance.textContent()).to.contain('Available: 7.5 USDT');
  });
});
