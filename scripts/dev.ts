// `npm run dev`: the whole system on local parts, with no accounts and no internet: Anvil (chain id 56) with a
// test USDT, the project's Telegram Bot API emulator (and the web chat it serves), a sandbox of its own in
// PostgreSQL, Redis and NATS (test/support/dev-sandbox.ts: removed on exit and, after a kill, by the next run), and
// every service. What it needs is checked first, each failure one line (test/support/dev-preflight.ts,
// docs/first-run.md). Payouts are real on the local chain (DRY_RUN=false, from Anvil's account 5 as the hot
// wallet). Unless --no-demo is given, a demo user joins, registers a wallet, deposits, is credited and withdraws
// part of it, and an admin broadcasts a photo to everyone.
import { buttonsOf } from '../test/support/bot-dialog';
import { attachSandboxWebChat } from '../test/support/sandbox-chain';
import {
  fundHotWallet,
  SANDBOX_ADMIN_ID,
  SANDBOX_HOT_WALLET,
  sandboxBanner,
  sandboxEnv,
} from '../test/support/sandbox-accounts';
import { createTestDatabase } from '../test/support/database';
import { startSystem, type TestSystem } from '../test/support/system';
import { attachTestUsdt, parseUsdt } from '../test/support/usdt';
import { parseDatabaseUrl } from '../lib/db';
import { displayUrl, describeStartupFailure } from '../lib/startup-errors';
import { preflight } from '../test/support/dev-preflight';
import {
  claimSandbox,
  namespaceOf,
  removeSandbox,
  schemaOf,
  sweepLeftovers,
  type Stores,
} from '../test/support/dev-sandbox';

/** A port from the environment, or the default; anything else is one line naming the variable. */
function portFrom(variable: string, fallback: number): number {
  const raw = process.env[variable]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535)
    fail(`${variable} must be a port between 1 and 65535, got "${raw}"`);
  return Number(raw);
}

function fail(line: string): never {
  console.error(`dev: ${line}`);
  process.exit(1);
}

const ports = {
  HTTP_PORT: portFrom('HTTP_PORT', 3000),
  METRICS_PORT: portFrom('METRICS_PORT', 3030),
  EMULATOR_PORT: portFrom('EMULATOR_PORT', 8081),
};
// Dev owns its data: its own schema of this database (created when missing), its own namespace on Redis and NATS.
const stores: Stores = {
  databaseUrl: parseDatabaseUrl(process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/sigmatrade_test')
    .connectionString,
  redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  natsUrl: process.env.NATS_URL || 'nats://127.0.0.1:4222',
};

let sandbox: Awaited<ReturnType<typeof claimSandbox>> | undefined;
let system: TestSystem | undefined;
let stopping = false;
// Ctrl-C while starting: out at once; Anvil goes with this process (its exit hook), the advisory lock with its
// connection, and the next run removes the schema and streams made so far.
const interruptStart = () => {
  console.error('dev: interrupted while starting; the next npm run dev removes what this run made');
  process.exit(130);
};
process.on('SIGINT', interruptStart);
process.on('SIGTERM', interruptStart);
try {
  const { createdDatabase } = await preflight(
    [
      { variable: 'HTTP_PORT', port: ports.HTTP_PORT, host: '127.0.0.1' },
      { variable: 'METRICS_PORT', port: ports.METRICS_PORT },
      { variable: 'EMULATOR_PORT', port: ports.EMULATOR_PORT, host: '127.0.0.1' },
    ],
    stores,
  );
  const database = new URL(stores.databaseUrl).pathname.slice(1);
  if (createdDatabase) console.log(`dev: created the database "${database}" (${displayUrl(stores.databaseUrl)})`);
  const swept = await sweepLeftovers(stores);
  if (swept.length > 0)
    console.log(`dev: removed what ${swept.length} dead dev run(s) left (${swept.map(namespaceOf).join(', ')})`);
  sandbox = await claimSandbox(stores);
  const namespace = namespaceOf(sandbox.id);
  system = await startSystem({
    confirmations: 3,
    groups: ['bot-gateway', 'ledger', 'notifier', 'chain-monitor', 'payout', 'broadcaster', 'gateway'],
    namespace,
    database: await createTestDatabase('dev', { baseUrl: stores.databaseUrl, schema: schemaOf(sandbox.id) }),
    emulatorPort: ports.EMULATOR_PORT,
    metrics: { port: ports.METRICS_PORT, group: 'gateway' },
    env: {
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      HTTP_PORT: String(ports.HTTP_PORT),
      REDIS_URL: stores.redisUrl,
      NATS_URL: stores.natsUrl,
      ...sandboxEnv(),
    },
  });
  await fundHotWallet(system);
} catch (error) {
  const e = error as NodeJS.ErrnoException & { port?: number };
  const line =
    e?.code === 'EADDRINUSE' && e.port === ports.EMULATOR_PORT
      ? `EMULATOR_PORT: port ${ports.EMULATOR_PORT} is in use; set EMULATOR_PORT to a free port`
      : describeStartupFailure(error);
  // Whatever this run made is removed now; what a half-started system leaves, the next run's sweep removes.
  await system?.stop().catch(() => undefined);
  if (sandbox) await removeSandbox(sandbox.id, stores).catch(() => undefined);
  await sandbox?.release();
  fail(line);
}
const sandboxId = sandbox.id;
const running = system;
const namespace = namespaceOf(sandboxId);

// The sandbox web chat, with its local-chain panel, on the emulator's port.
const webChat = attachSandboxWebChat(running, [SANDBOX_ADMIN_ID]);

// A block every second, as a chain makes them, so deposits and payouts reach their confirmations.
const miner = setInterval(() => void running.anvil.mine(1).catch(() => undefined), 1000);
const replCommand = `${stores.natsUrl === 'nats://127.0.0.1:4222' ? '' : `NATS_URL=${stores.natsUrl} `}npm run repl -- --namespace ${namespace}`;
console.log(`SigmaTrade is running on local parts:
  web chat                  ${webChat}
  local chain (Anvil)       ${running.anvil.rpcUrl}  chain id ${running.anvil.chainId}
  test USDT                 ${running.usdtAddress}
  system wallet             ${running.systemWallet}
  hot wallet (payouts)      ${SANDBOX_HOT_WALLET}
  admin (Telegram id)       ${SANDBOX_ADMIN_ID}
  Telegram Bot API emulator ${running.emulator.apiRoot}
  HTTP gateway              http://127.0.0.1:${ports.HTTP_PORT}/health/ready
  metrics (gateway node)    http://127.0.0.1:${ports.METRICS_PORT}/metrics
  NATS namespace            ${namespace}
  REPL on this system       ${replCommand}
  database schema           ${running.db.schema} (removed on exit, with the namespace's streams and Redis keys)
Press Ctrl-C to stop.`);

/** Runs one stop step for at most `ms`; a step that takes longer is named and left behind (the next run sweeps). */
async function bounded(what: string, work: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const outcome = await Promise.race([
    work().then(
      () => 'done' as const,
      () => 'failed' as const,
    ),
    late,
  ]);
  clearTimeout(timer);
  if (outcome !== 'done')
    console.error(
      `dev: ${what} ${outcome === 'late' ? `took over ${ms} ms` : 'failed'}; left for the next run to remove`,
    );
  return outcome === 'done';
}

// Services first, while the chain, the emulator and the stores they use are still there; then those, then the data.
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const began = Date.now();
  clearInterval(miner);
  await bounded(
    'stopping the services',
    async () => {
      for (const group of [...running.nodes.keys()].reverse()) await running.stopGroup(group);
    },
    1_500,
  );
  await bounded(
    'stopping the emulator and Anvil',
    () => Promise.all([running.emulator.stop(), running.anvil.stop()]),
    1_000,
  );
  const removed = await bounded(
    'removing the schema, streams and Redis keys',
    async () => {
      await running.db.close();
      await removeSandbox(sandboxId, stores, { redis: running.redis });
      running.redis.disconnect();
    },
    2_000,
  );
  await sandbox!.release();
  const took = ((Date.now() - began) / 1000).toFixed(1);
  console.log(`dev: stopped in ${took} s; ${namespace} ${removed ? 'removed' : 'is removed by the next npm run dev'}`);
  process.exit(0);
};
process.off('SIGINT', interruptStart);
process.off('SIGTERM', interruptStart);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

if (!process.argv.includes('--no-demo')) {
  const say = (who: string, text: string) => console.log(`\n${who}: ${text.replace(/\n+/g, '\n    ')}`);
  const inviter = running.emulator.user({ first_name: 'Alice' });
  inviter.sendText('/start');
  say('Alice', '/start');
  say('bot', (await inviter.waitForMessage(/Welcome/)).text);
  inviter.sendText('/referrals');
  const link = (await inviter.waitForMessage(/Referral program/)).text;
  const code = /start=([\w-]+)/.exec(link)![1]!;

  const user = running.emulator.user({ first_name: 'Bob' });
  const wallet = running.anvil.accounts[1]!.address;
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
  const usdt = attachTestUsdt(running.usdtAddress, running.anvil.wallet(0));
  await (await usdt.mint(wallet, parseUsdt('1000'))).wait();
  const tx = await attachTestUsdt(running.usdtAddress, running.anvil.wallet(1)).transfer(
    running.systemWallet,
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
  const tokens = await attachTestUsdt(running.usdtAddress, running.anvil.wallet(0)).balanceOf(wallet);
  say('chain', `Bob's wallet holds ${tokens / 10n ** 18n} USDT (1000 − 150 deposited + 50 withdrawn)`);
  const check = await running.call<{ ok: boolean; problems: string[] }>('ledger.check');
  say('ledger.check', check.ok ? 'every invariant holds' : check.problems.join('; '));
  const reconciliation = await running.call<{ ok: boolean; differences: { kind: string }[] }>('ledger.reconcile');
  say(
    'ledger.reconcile',
    reconciliation.ok
      ? 'the books equal the chain'
      : reconciliation.differences.map((d) => d.kind).join(', ') + ' (the newest blocks may not be final yet)',
  );

  // A broadcast: the admin sends a photo with a caption, skips the link buttons, picks everyone and confirms.
  const admin = running.emulator.user({ id: SANDBOX_ADMIN_ID, first_name: 'Carol' });
  const pace = () => new Promise((resolve) => setTimeout(resolve, 1100));
  admin.sendText('/start');
  await admin.waitForMessage(/Welcome/);
  await pace();
  admin.sendText('/broadcast');
  say('Carol (admin)', '/broadcast');
  say('bot', (await admin.waitForMessage(/New broadcast/)).text);
  await pace();
  const photo = admin.sendMedia('photo', {
    bytes: sandboxBanner(),
    fileName: 'banner.png',
    mimeType: 'image/png',
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
