// `npm run dev`: the whole system on local parts, with no accounts and no internet: Anvil (chain id 56) with a
// test USDT, the project's Telegram Bot API emulator, a fresh PostgreSQL schema, Redis, NATS, and every
// service. Payouts are real on the local chain (DRY_RUN=false, from Anvil's account 5 as the hot wallet). Unless
// --no-demo is given, a demo user joins, registers a wallet, deposits, is credited and withdraws part of it, and an
// admin broadcasts a photo to everyone.
import { buttonsOf } from '../test/support/bot-dialog';
import { attachSandboxWebChat } from '../test/support/sandbox-chain';
import { startSystem } from '../test/support/system';
import { attachTestUsdt, parseUsdt } from '../test/support/usdt';

// Anvil's dev account 5 of its well-known test mnemonic: a key for the local chain only.
const HOT_WALLET = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc';
const HOT_WALLET_KEY = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba';
// The sandbox's admin: a simulated Telegram user of the emulator, the one id in ADMIN_TELEGRAM_IDS.
const ADMIN_ID = 700_000_001;

const system = await startSystem({
  confirmations: 3,
  groups: ['bot-gateway', 'ledger', 'notifier', 'chain-monitor', 'payout', 'broadcaster', 'gateway'],
  emulatorPort: Number(process.env.EMULATOR_PORT ?? 8081), // the web chat's port
  env: {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    HTTP_PORT: process.env.HTTP_PORT ?? '3000',
    DRY_RUN: 'false',
    PAYOUT_WALLET_ADDRESS: HOT_WALLET,
    PAYOUT_WALLET_PRIVATE_KEY: HOT_WALLET_KEY,
    PAYOUT_MIN_GAS_PRICE_GWEI: '1',
    PAYOUT_LOW_USDT: '100',
    ADMIN_TELEGRAM_IDS: String(ADMIN_ID),
  },
});
await (await attachTestUsdt(system.usdtAddress, system.anvil.wallet(0)).mint(HOT_WALLET, parseUsdt('100000'))).wait();
// The sandbox web chat on the emulator's port (webChatUrl(system.emulator)), with its local-chain panel.
attachSandboxWebChat(system, [ADMIN_ID]);
// A block every second, as a chain makes them, so deposits and payouts reach their confirmations.
const miner = setInterval(() => void system.anvil.mine(1).catch(() => undefined), 1000);
console.log(`SigmaTrade is running on local parts:
  local chain (Anvil)       ${system.anvil.rpcUrl}  chain id ${system.anvil.chainId}
  test USDT                 ${system.usdtAddress}
  system wallet             ${system.systemWallet}
  hot wallet (payouts)      ${HOT_WALLET}
  admin (Telegram id)       ${ADMIN_ID}
  Telegram Bot API emulator ${system.emulator.apiRoot}
  HTTP gateway              http://127.0.0.1:${system.env.HTTP_PORT}/health/ready
  database schema           ${system.db.schema} (dropped on exit)`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(miner);
  await system.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

if (!process.argv.includes('--no-demo')) {
  const say = (who: string, text: string) => console.log(`\n${who}: ${text.replace(/\n+/g, '\n    ')}`);
  const inviter = system.emulator.user({ first_name: 'Alice' });
  inviter.sendText('/start');
  say('Alice', '/start');
  say('bot', (await inviter.waitForMessage(/Welcome/)).text);
  inviter.sendText('/referrals');
  const link = (await inviter.waitForMessage(/Referral program/)).text;
  const code = /start=([\w-]+)/.exec(link)![1]!;

  const user = system.emulator.user({ first_name: 'Bob' });
  const wallet = system.anvil.accounts[1]!.address;
  for (const [text, reply] of [
    [`/start ${code}`, /Welcome/],
    [`/wallet ${wallet.toLowerCase()}`, /Wallet saved/],
    ['/deposit', /How to deposit/],
  ] as const) {
    user.sendText(text);
    say('Bob', text);
    say('bot', (await user.waitForMessage(reply)).text);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a human's pace, within Telegram's per-chat limit
  }
  const usdt = attachTestUsdt(system.usdtAddress, system.anvil.wallet(0));
  await (await usdt.mint(wallet, parseUsdt('1000'))).wait();
  const tx = await attachTestUsdt(system.usdtAddress, system.anvil.wallet(1)).transfer(
    system.systemWallet,
    parseUsdt('150'),
  );
  await tx.wait();
  say('chain', `Bob's wallet sends 150 USDT to the system wallet (${tx.hash})`);
  say('bot → Bob', (await user.waitForMessage(/We see your deposit/, 20_000)).text);
  say('chain', 'a few more blocks: the deposit has its confirmations');
  say('bot → Bob', (await user.waitForMessage(/USDT is credited/, 20_000)).text);
  say('bot → Alice', (await inviter.waitForMessage(/referral commission/, 20_000)).text);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  user.sendText('/balance');
  say('Bob', '/balance');
  say('bot', (await user.waitForMessage(/Your balance/)).text);

  // A withdrawal: a financial password (set on first use, typed twice), a confirmation, the tokens on chain.
  const password = 'Demo2026pass';
  user.sendText('/withdraw 50');
  say('Bob', '/withdraw 50');
  say('bot', (await user.waitForMessage(/Set a financial password/)).text);
  for (const answer of [/once more/, /password is set/]) {
    user.sendText(password);
    say('Bob', '(his new financial password; the bot deletes the message)');
    say('bot', (await user.waitForMessage(answer)).text);
  }
  const confirmation = await user.waitForMessage(/Please confirm your withdrawal/);
  say('bot', confirmation.text);
  user.pressButton(
    confirmation,
    buttonsOf(confirmation).find((data) => data.startsWith('wd:ok:'))!,
  );
  say('Bob', '(presses Confirm)');
  for (const step of [/is approved/, /is on its way/, /is complete/])
    say('bot → Bob', (await user.waitForMessage(step, 30_000)).text);
  const tokens = await attachTestUsdt(system.usdtAddress, system.anvil.wallet(0)).balanceOf(wallet);
  say('chain', `Bob's wallet holds ${tokens / 10n ** 18n} USDT (1000 − 150 deposited + 50 withdrawn)`);
  const check = await system.call<{ ok: boolean; problems: string[] }>('ledger.check');
  say('ledger.check', check.ok ? 'every invariant holds' : check.problems.join('; '));
  const reconciliation = await system.call<{ ok: boolean; differences: { kind: string }[] }>('ledger.reconcile');
  say(
    'ledger.reconcile',
    reconciliation.ok
      ? 'the books equal the chain'
      : reconciliation.differences.map((d) => d.kind).join(', ') + ' (the newest blocks may not be final yet)',
  );

  // A broadcast: the admin sends a photo with a caption, skips the link buttons, picks everyone and confirms.
  const admin = system.emulator.user({ id: ADMIN_ID, first_name: 'Carol' });
  const pace = () => new Promise((resolve) => setTimeout(resolve, 1100));
  admin.sendText('/start');
  await admin.waitForMessage(/Welcome/);
  await pace();
  admin.sendText('/broadcast');
  say('Carol (admin)', '/broadcast');
  say('bot', (await admin.waitForMessage(/New broadcast/)).text);
  await pace();
  const photo = admin.sendMedia('photo', {
    caption: '<b>SigmaTrade</b> now pays out on the local chain',
    markup: 'HTML',
  });
  say('Carol (admin)', '(a photo with the caption "SigmaTrade now pays out on the local chain")');
  const buttonsPrompt = await admin.waitForMessage(
    (m) => m.message_id > photo.message_id && /Add link buttons/.test(m.text),
  );
  say('bot', buttonsPrompt.text);
  admin.pressButton(
    buttonsPrompt,
    buttonsOf(buttonsPrompt).find((data) => data.startsWith('bcd:skip:'))!,
  );
  say('Carol (admin)', '(presses Skip)');
  const audience = await admin.waitForMessage(/Who gets it/);
  say('bot', audience.text);
  admin.pressButton(
    audience,
    buttonsOf(audience).find((data) => data.endsWith(':all'))!,
  );
  say('Carol (admin)', '(presses All users)');
  const confirm = await admin.waitForMessage(/Send to \d+ users\?/, 20_000);
  say('bot', `(the preview: the photo as recipients will see it)\n${confirm.text}`);
  admin.pressButton(
    confirm,
    buttonsOf(confirm).find((data) => data.startsWith('bcd:send:'))!,
  );
  say('Carol (admin)', '(presses Send)');
  for (const who of [inviter, user])
    say(
      `bot → ${who.info.first_name}`,
      `(a photo) ${(await who.waitForMessage((m) => m.media?.kind === 'photo', 30_000)).text}`,
    );
  say('bot → Carol', (await admin.waitForMessage(/Broadcast #\d+ finished/, 30_000)).text);
  console.log('\nThe system keeps running; press Ctrl-C to stop.');
}
