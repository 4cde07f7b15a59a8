import { expect } from 'chai';
import { pino } from 'pino';
import { moleculerLogger, rootLogger, scrub, serviceLogger } from './logger';

// pino writes to fd 1 through sonic-boom, not through process.stdout.write, so the spec swaps the root logger's
// destination (pino.symbols.streamSym, which every child reads through its prototype) for an in-memory one.
const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';
const DB_URL = 'postgresql://admin:S3cretPw@db.internal:5432/sigmatrade';

type Line = Record<string, unknown>;

describe('logger', () => {
  const written: string[] = [];
  const root = rootLogger() as unknown as Record<symbol, unknown> & { level: string };
  let originalStream: unknown;
  let originalLevel: string;

  before(() => {
    originalStream = root[pino.symbols.streamSym];
    originalLevel = root.level;
    root[pino.symbols.streamSym] = { write: (chunk: string) => written.push(chunk) };
    root.level = 'info';
  });
  after(() => {
    root[pino.symbols.streamSym] = originalStream;
    root.level = originalLevel;
  });
  beforeEach(() => {
    written.length = 0;
  });

  /** Every line written since the test started, parsed (a line that is not JSON fails the test). */
  const lines = (): Line[] =>
    written
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Line);
  const only = (): Line => {
    const all = lines();
    expect(all).to.have.length(1);
    return all[0]!;
  };

  it('writes one JSON object per line, each with service, level, time and msg', () => {
    const log = serviceLogger('ledger');
    log.info('credited');
    log.warn({ account: 7 }, 'low balance');
    log.error({ nested: { multi: 'line\ntext' } }, 'two\nlines');
    expect(written.every((chunk) => chunk.endsWith('\n') && chunk.indexOf('\n') === chunk.length - 1)).to.equal(true);
    const all = lines();
    expect(all.map((l) => [l['service'], l['level'], l['msg']])).to.deep.equal([
      ['ledger', 'info', 'credited'],
      ['ledger', 'warn', 'low balance'],
      ['ledger', 'error', 'two\nlines'],
    ]);
    for (const line of all) expect(new Date(line['time'] as string).toISOString()).to.equal(line['time']);
    expect(all[1]).to.include({ account: 7 });
  });

  it("keeps every argument of Moleculer's log calls: text joined into msg, objects merged, an error as err", () => {
    const log = moleculerLogger(serviceLogger('channels'));
    log.info('Channel prefix:', 'sigmatrade', 3);
    log.warn('Moved message to', { seq: 12 }, 'dead-letters');
    log.error('NATS error.', new Error('connection refused'));
    const [prefix, moved, failed] = lines();
    expect(prefix).to.include({ service: 'channels', level: 'info', msg: 'Channel prefix: sigmatrade 3' });
    expect(moved).to.include({ msg: 'Moved message to dead-letters', seq: 12 });
    expect(failed!['msg']).to.equal('NATS error.');
    expect((failed!['err'] as { message: string }).message).to.equal('connection refused');
  });

  it('carries request_id and user_id on a request child, and service on every child', () => {
    const log = serviceLogger('users');
    log.child({ request_id: 'req-42', user_id: '1001' }).info('user registered');
    log.info('outside the request');
    const [inside, outside] = lines();
    expect(inside).to.include({ service: 'users', request_id: 'req-42', user_id: '1001', msg: 'user registered' });
    expect(outside).to.include({ service: 'users', msg: 'outside the request' });
    expect(outside).not.to.have.property('request_id');
  });

  it('redacts credential keys and secret config names one level down', () => {
    serviceLogger('runner').info(
      {
        user: {
          token: 't0ken',
          password: 'hunter2',
          secret: 's3',
          privateKey: '0xabc',
          apiKey: 'k',
          authorization: 'Bearer x',
        },
        config: {
          DATABASE_URL: DB_URL,
          TELEGRAM_BOT_TOKEN: TOKEN,
          REDIS_URL: 'redis://:pw@redis:6379',
          NATS_URL: 'nats://u:p@nats:4222',
          BSC_RPC_URLS: ['https://rpc.example/key'],
          TELEGRAM_WEBHOOK_SECRET: 'hook-secret',
          NAMESPACE: 'sigmatrade',
        },
        request: { headers: { 'x-telegram-bot-api-secret-token': 'hook-secret', host: 'bot.example' } },
      },
      'config loaded',
    );
    const line = only();
    expect(line['user']).to.deep.equal({
      token: '[redacted]',
      password: '[redacted]',
      secret: '[redacted]',
      privateKey: '[redacted]',
      apiKey: '[redacted]',
      authorization: '[redacted]',
    });
    expect(line['config']).to.deep.equal({
      DATABASE_URL: '[redacted]',
      TELEGRAM_BOT_TOKEN: '[redacted]',
      REDIS_URL: '[redacted]',
      NATS_URL: '[redacted]',
      BSC_RPC_URLS: '[redacted]',
      TELEGRAM_WEBHOOK_SECRET: '[redacted]',
      NAMESPACE: 'sigmatrade',
    });
    expect(line['request']).to.deep.equal({
      headers: { 'x-telegram-bot-api-secret-token': '[redacted]', host: 'bot.example' },
    });
  });

  it('redacts credential keys at the top level and at any depth', () => {
    serviceLogger('runner').info(
      {
        token: 't0ken',
        password: 'hunter2',
        DATABASE_URL: DB_URL,
        TELEGRAM_BOT_TOKEN: TOKEN,
        a: { b: { secret: 's3' } },
      },
      'top level',
    );
    const line = only();
    expect(line).to.include({
      token: '[redacted]',
      password: '[redacted]',
      DATABASE_URL: '[redacted]',
      TELEGRAM_BOT_TOKEN: '[redacted]',
    });
    expect(line['a']).to.deep.equal({ b: { secret: '[redacted]' } });
    expect(written.join('')).not.to.match(/hunter2|t0ken|S3cretPw|s3"/);
  });

  it('scrubs a bot token and URL credentials inside the message, format arguments and string fields', () => {
    const log = serviceLogger('notifier');
    log.info(`token ${TOKEN} and ${DB_URL} in text`);
    log.warn('retrying %s with %s', DB_URL, TOKEN);
    log.warn({ error: `cannot reach nats://bus:Pa55@nats:4222 with ${TOKEN}` }, 'send failed');
    const all = lines();
    expect(all[0]!['msg']).to.equal(
      'token [redacted-token] and postgresql://[redacted]@db.internal:5432/sigmatrade in text',
    );
    expect(all[1]!['msg']).to.equal(
      'retrying postgresql://[redacted]@db.internal:5432/sigmatrade with [redacted-token]',
    );
    expect(all[2]!['error']).to.equal('cannot reach nats://[redacted]@nats:4222 with [redacted-token]');
    expect(written.join('')).not.to.match(/S3cretPw|Pa55|AAHdqTcv/);
  });

  it('scrubs a bot token inside a Bot API URL', () => {
    expect(scrub(`https://api.telegram.org/bot${TOKEN}/sendMessage`)).not.to.contain('AAHdqTcv');
  });

  it('scrubs a password-only URL (the usual Redis form)', () => {
    expect(scrub('redis://:S3cretPw@redis:6379/0')).not.to.contain('S3cretPw');
  });

  it("scrubs an Error's message and stack logged under err", () => {
    serviceLogger('ledger').error({ err: new Error(`connect failed: ${DB_URL} (bot ${TOKEN})`) }, 'database down');
    const line = only();
    const err = line['err'] as { message: string; stack: string };
    expect(line['msg']).to.equal('database down');
    expect(err.message).to.equal(
      'connect failed: postgresql://[redacted]@db.internal:5432/sigmatrade (bot [redacted-token])',
    );
    expect(err.stack).to.match(/^Error: connect failed: postgresql:\/\/\[redacted\]@db\.internal/);
    expect(written.join('')).not.to.match(/S3cretPw|AAHdqTcv/);
  });

  it("scrubs an Error's message when the Error is logged without a message", () => {
    const log = serviceLogger('ledger');
    log.error(new Error(`connect failed: ${DB_URL}`));
    log.error({ err: new Error(`connect failed: ${DB_URL}`) });
    expect(lines()).to.have.length(2);
    expect(written.join('')).not.to.contain('S3cretPw');
  });

  it("keeps an Error's type when it scrubs it", () => {
    class LedgerError extends Error {
      override name = 'LedgerError';
    }
    serviceLogger('ledger').error({ err: new LedgerError('boom') }, 'failed');
    expect(only()['err']).to.include({ type: 'LedgerError', message: 'boom' });
  });
});
