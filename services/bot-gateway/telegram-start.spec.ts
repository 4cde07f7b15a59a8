import { expect } from 'chai';
import { TelegramError } from 'telegraf';
import { networkFailure, telegramRefusal } from './telegram-start';

describe('how the first call to Telegram failed (telegram-start.ts)', () => {
  it('reads a refused token from a 401 or 404 answer, with its description', () => {
    expect(telegramRefusal(new TelegramError({ error_code: 401, description: 'Unauthorized' }))).to.equal(
      '401 Unauthorized',
    );
    expect(telegramRefusal(new TelegramError({ error_code: 404, description: 'Not Found' }))).to.equal('404 Not Found');
    expect(telegramRefusal(new TelegramError({ error_code: 429, description: 'Too Many Requests' }))).to.equal(null);
    expect(telegramRefusal(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).to.equal(null);
  });

  it('reads an unreachable Bot API from the network error, and nothing else', () => {
    const refused = Object.assign(new Error('request to http://127.0.0.1:1/bot… failed'), {
      type: 'system',
      code: 'ECONNREFUSED',
      errno: 'ECONNREFUSED',
    });
    expect(networkFailure(refused)).to.equal('ECONNREFUSED');
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND api.telegram.org'), { code: 'ENOTFOUND' });
    expect(networkFailure(notFound)).to.equal('ENOTFOUND');
    expect(networkFailure(new TelegramError({ error_code: 401, description: 'Unauthorized' }))).to.equal(null);
    expect(networkFailure(new Error('something else'))).to.equal(null);
  });
});
