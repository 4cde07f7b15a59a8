import { expect } from 'chai';
import { isTelegramUpdate, secretMatches, webhookUrl } from './webhook';

describe('webhook', () => {
  it('accepts only the exact secret', () => {
    expect(secretMatches('s3cret_-A', 's3cret_-A')).to.equal(true);
    expect(secretMatches('s3cret_-a', 's3cret_-A')).to.equal(false);
    expect(secretMatches('s3cret', 's3cret_-A')).to.equal(false);
    expect(secretMatches('', 's3cret_-A')).to.equal(false);
    expect(secretMatches(undefined, 's3cret_-A')).to.equal(false);
    expect(secretMatches('anything', undefined)).to.equal(false);
    expect(secretMatches('', '')).to.equal(false);
  });

  it('builds the URL Telegram posts to', () => {
    expect(webhookUrl('https://bot.example.com')).to.equal('https://bot.example.com/telegram/webhook');
    expect(webhookUrl('https://bot.example.com/')).to.equal('https://bot.example.com/telegram/webhook');
  });

  it('recognises an update by its update_id', () => {
    expect(isTelegramUpdate({ update_id: 5, message: {} })).to.equal(true);
    expect(isTelegramUpdate({ update_id: -1 })).to.equal(false);
    expect(isTelegramUpdate({ update_id: '5' })).to.equal(false);
    expect(isTelegramUpdate([])).to.equal(false);
    expect(isTelegramUpdate(null)).to.equal(false);
  });
});
