// The bot's "/" menu (setMyCommands) on real parts: bot-gateway against the project's Telegram Bot API emulator,
// with users on PostgreSQL, Redis and NATS. Users see the user commands, each admin in their own chat the admin
// ones too, in English and Russian; a Telegram that refuses the lists delays them, never the bot.
import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { Telegram } from 'telegraf';
import type { Config } from '../../services';
import { serviceLogger } from '../../lib/logger';
import { createRedis, type Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { registerCommands } from '../../services/bot-gateway/bot-commands';
import { botGatewayService } from '../../services/bot-gateway/bot-gateway.service';
import { ADMIN_COMMANDS, USER_COMMANDS } from '../../services/bot-gateway/commands';
import { usersService } from '../../services/users/users.service';
import { send } from '../support/bot-dialog';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { deleteNamespaceStreams } from '../support/nats';
import { deleteNamespaceKeys } from '../support/redis';
import { eventually } from '../support/system';
import { TelegramEmulator } from '../support/telegram-emulator';

process.env.LOG_LEVEL ??= 'warn';

const ADMIN = randomInt(100_000, 900_000);
const OTHER_ADMIN = ADMIN + 1;
const names = (commands: { command: string }[]) => commands.map((c) => c.command);

describe('bot commands (setMyCommands)', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let redis: Redis;
  let emulator: TelegramEmulator;
  const configs: Config[] = [];
  let node: Node | undefined;

  const start = async (overrides: Record<string, string> = {}) => {
    const config = testConfig({
      DATABASE_URL: db.url,
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      ...overrides,
    });
    configs.push(config);
    node = await startNode(config, [usersService, botGatewayService], { db, redis });
  };

  before(async () => {
    db = await createTestDatabase('botcmd');
    redis = createRedis('redis://127.0.0.1:6379');
  });
  beforeEach(async () => {
    emulator = new TelegramEmulator({ enforceLimits: false });
    await emulator.start();
  });
  afterEach(async () => {
    await node?.stop();
    node = undefined;
    await emulator?.stop();
  });
  after(async () => {
    for (const config of configs) {
      await deleteNamespaceKeys(redis, config.NAMESPACE);
      await deleteNamespaceStreams(config.NAMESPACE);
    }
    redis?.disconnect();
    await db?.drop();
  });

  it('registers the user commands in English and Russian, and the admin commands in each admin chat only', async () => {
    await start({ ADMIN_TELEGRAM_IDS: `${ADMIN},${OTHER_ADMIN}` });

    const english = emulator.commands();
    expect(names(english)).to.deep.equal([...USER_COMMANDS]);
    expect(english.find((c) => c.command === 'balance')!.description).to.equal('Your balance');
    const russian = emulator.commands({ type: 'default' }, 'ru');
    expect(names(russian)).to.deep.equal([...USER_COMMANDS]);
    expect(russian.find((c) => c.command === 'balance')!.description).to.equal('Ваш баланс');

    for (const admin of [ADMIN, OTHER_ADMIN]) {
      const scope = { type: 'chat', chat_id: admin };
      expect(names(emulator.commands(scope)), String(admin)).to.deep.equal([...USER_COMMANDS, ...ADMIN_COMMANDS]);
      const ru = emulator.commands(scope, 'ru');
      expect(names(ru)).to.deep.equal([...USER_COMMANDS, ...ADMIN_COMMANDS]);
      expect(ru.find((c) => c.command === 'pending')!.description).to.equal('Админ: выводы, ожидающие одобрения');
    }
    // A user's chat has no list of its own: Telegram shows them the default one, without the admin commands.
    expect(emulator.commands({ type: 'chat', chat_id: ADMIN + 2 })).to.deep.equal([]);
    for (const listing of [english, russian]) expect(names(listing)).to.not.include.members(['pending', 'broadcast']);
  });

  it('registers no admin lists when there are no admins', async () => {
    await start({ ADMIN_TELEGRAM_IDS: '' });
    expect(names(emulator.commands())).to.deep.equal([...USER_COMMANDS]);
    expect(names(emulator.commands({ type: 'default' }, 'ru'))).to.deep.equal([...USER_COMMANDS]);
    expect(emulator.calls('setMyCommands')).to.have.length(2);
  });

  it('starts and answers even when Telegram refuses setMyCommands', async () => {
    emulator.failNext('setMyCommands', { error_code: 500, description: 'Internal Server Error', times: 100 });
    await start({ ADMIN_TELEGRAM_IDS: String(ADMIN) });
    const user = emulator.user({ language_code: 'en' });
    expect((await send(user, '/help')).text).to.contain('/deposit - how to deposit');
    expect(emulator.commands()).to.deep.equal([]);
    expect(emulator.calls('setMyCommands').every((c) => c.status === 500)).to.equal(true);
  });

  it('tries the lists that failed again later, until Telegram takes them', async () => {
    const telegram = new Telegram(emulator.token, { apiRoot: emulator.apiRoot });
    // The first call (the default English list) fails; the retry sets it, and only it.
    emulator.failNext('setMyCommands', { error_code: 502, description: 'Bad Gateway' });
    const registration = registerCommands(telegram, [String(ADMIN)], serviceLogger('bot-commands-spec'), {
      firstRetryMs: 50,
    });
    try {
      await registration.firstAttempt;
      expect(emulator.commands()).to.deep.equal([]);
      expect(names(emulator.commands({ type: 'default' }, 'ru'))).to.deep.equal([...USER_COMMANDS]);
      await eventually(async () => emulator.commands().length > 0, 'the failed list set again');
      expect(names(emulator.commands())).to.deep.equal([...USER_COMMANDS]);
      // Only the failed listing was sent again: 4 listings, one of them twice.
      expect(emulator.calls('setMyCommands').filter((c) => c.status === 200)).to.have.length(4);
      expect(emulator.calls('setMyCommands')).to.have.length(5);
    } finally {
      registration.stop();
    }
  });
});
