// `npm run dev`: the whole system on local parts, with no accounts and no internet: Anvil (chain id 56) with a
// test USDT, the project's Telegram Bot API emulator, a fresh PostgreSQL schema, Redis, NATS, and every
// service. Unless --no-demo is given, a demo user joins, registers a wallet, deposits and is credited.
import { startSystem } from '../test/support/system';
import { attachTestUsdt, parseUsdt } from '../test/support/usdt';

const system = await startSystem({
  confirmations: 3,
  groups: ['bot-gateway', 'ledger', 'notifier', 'chain-monitor', 'gateway'],
  env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', HTTP_PORT: process.env.HTTP_PORT ?? '3000' },
});
console.log(`SigmaTrade is running on local parts:
  local chain (Anvil)       ${system.anvil.rpcUrl}  chain id ${system.anvil.chainId}
  test USDT                 ${system.usdtAddress}
  system wallet             ${system.systemWallet}
  Telegram Bot API emulator ${system.emulator.apiRoot}
  HTTP gateway              http://127.0.0.1:${system.env.HTTP_PORT}/health/ready
  database schema           ${system.db.schema} (dropped on exit)`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
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
  await system.anvil.mine(3);
  say('chain', '3 more blocks: the deposit has its confirmations');
  say('bot → Bob', (await user.waitForMessage(/USDT is credited/, 20_000)).text);
  say('bot → Alice', (await inviter.waitForMessage(/referral commission/, 20_000)).text);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  user.sendText('/balance');
  say('Bob', '/balance');
  say('bot', (await user.waitForMessage(/Your balance/)).text);
  const check = await system.call<{ ok: boolean; problems: string[] }>('ledger.check');
  say('ledger.check', check.ok ? 'every invariant holds' : check.problems.join('; '));
  console.log('\nThe system keeps running; press Ctrl-C to stop.');
}
