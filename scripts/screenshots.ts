// `npm run screenshots`: the main dialogs, taken from the sandbox web chat by headless chromium on the whole
// local system, written to docs/screenshots/ (the README shows them). Run it again after changing the bot's texts.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../test/support/browser';
import { fundHotWallet, SANDBOX_ADMIN_ID, sandboxBanner, sandboxEnv } from '../test/support/sandbox-accounts';
import { attachSandboxWebChat } from '../test/support/sandbox-chain';
import { startSystem } from '../test/support/system';
import { REPO_ROOT } from '../test/support/usdt';
import { WebChatPage } from '../test/support/web-chat-page';

const OUT = path.join(REPO_ROOT, 'docs', 'screenshots');
/** Telegram's per-chat pace: a person never writes faster than this. */
const pace = () => new Promise((resolve) => setTimeout(resolve, 1100));

mkdirSync(OUT, { recursive: true });
const system = await startSystem({
  confirmations: 3,
  groups: ['bot-gateway', 'ledger', 'notifier', 'chain-monitor', 'payout', 'broadcaster'],
  env: sandboxEnv(),
});
const browser = await launchBrowser({ width: 1200, height: 760 });
try {
  await fundHotWallet(system);
  const chat = new WebChatPage(browser.page);
  const { page } = chat;
  const shot = async (name: string) => {
    await page.waitForTimeout(300); // let images decode and the scroll settle
    await page.screenshot({ path: path.join(OUT, `${name}.png`) });
    console.log(`docs/screenshots/${name}.png`);
  };
  await chat.open(attachSandboxWebChat(system, [SANDBOX_ADMIN_ID]));

  await chat.newUser('Alice');
  await chat.waitForBot(/Welcome to SigmaTrade/);
  await shot('01-welcome-menu');

  await pace();
  await chat.send('/referrals');
  const referrals = await chat.waitForBot(/Referral program/);
  await shot('02-referral-link');

  await referrals.locator('a[href*="start="]').first().click();
  await chat.newUser('Bob', { dialogOpen: true });
  await chat.waitForBot(/You joined through an invitation link/);
  await pace();
  await page.click('#register-wallet');
  await chat.waitForBot(/Wallet saved/);
  await shot('03-wallet-registered');

  await pace();
  await page.fill('#deposit-amount', '150');
  await page.click('#deposit-form button');
  await chat.waitForBot(/We see your deposit of 150 USDT/);
  await page.fill('#mine-count', '3');
  await page.click('#mine-form button');
  await chat.waitForBot(/is credited/);
  await page
    .locator('#tx-confirmations')
    .filter({ hasText: /^[3-9]/ })
    .waitFor();
  await shot('04-deposit-credited');

  await pace();
  await chat.send('/withdraw 50');
  await chat.waitForBot(/Set a financial password/);
  for (const answer of [/once more/, /password is set/]) {
    await pace();
    await chat.send('Sandbox2026pass');
    await chat.waitForBot(answer);
  }
  await chat.waitForBot(/Please confirm your withdrawal/);
  await shot('05-withdrawal-confirmation');

  await chat.newUser('Carol', { admin: true });
  await chat.waitForBot(/Welcome/);
  await pace();
  await chat.send('/broadcast');
  await chat.waitForBot(/New broadcast/);
  await pace();
  const photo = sandboxBanner();
  await page.fill('#text-input', 'SigmaTrade now pays out on the local chain');
  await page.setInputFiles('#file-input', { name: 'banner.png', mimeType: 'image/png', buffer: photo });
  await chat.waitForBot(/Add link buttons/);
  await pace();
  await chat.pressInline(/Add link buttons/, /Skip/);
  await chat.waitForBot(/Who gets it/);
  await pace();
  await chat.pressInline(/Who gets it/, /All/);
  await chat.waitForBot(/Send to \d+ users\?/);
  await shot('06-broadcast-preview');
} finally {
  await browser.close();
  await system.stop();
}
