import { expect } from 'chai';
import { rootLogger } from '../../../lib/logger';
import type { BotContext } from '../context';
import { privateChatsOnly } from './private-chats';

function contextIn(chatType: string, { callback = false, failLeave = false } = {}) {
  const calls: string[] = [];
  const ctx = {
    chat: { id: chatType === 'private' ? 42 : -1001, type: chatType },
    ...(callback ? { callbackQuery: { id: '1', data: 'menu:balance' } } : {}),
    gateway: { log: rootLogger().child({}, { level: 'silent' }), lang: 'en' },
    reply: async (text: string) => void calls.push(`reply:${text}`),
    answerCbQuery: async (text: string) => void calls.push(`answer:${text}`),
    leaveChat: async () => {
      if (failLeave) throw new Error('Forbidden: bot is not a member of the group chat');
      calls.push('leave');
    },
  } as unknown as BotContext;
  return { ctx, calls };
}

describe('privateChatsOnly', () => {
  it('passes private chats on untouched', async () => {
    const { ctx, calls } = contextIn('private');
    let passed = false;
    await privateChatsOnly()(ctx, async () => void (passed = true));
    expect(passed).to.equal(true);
    expect(calls).to.deep.equal([]);
  });

  for (const type of ['group', 'supergroup', 'channel']) {
    it(`in a ${type}: handles nothing, says why once and leaves`, async () => {
      const { ctx, calls } = contextIn(type);
      let passed = false;
      await privateChatsOnly()(ctx, async () => void (passed = true));
      expect(passed).to.equal(false);
      expect(calls).to.have.length(2);
      expect(calls[0]).to.match(/^reply:.*private chat/);
      expect(calls[1]).to.equal('leave');
    });
  }

  it('answers a button pressed in a group with an alert instead of a message, and survives a failed leave', async () => {
    const { ctx, calls } = contextIn('supergroup', { callback: true, failLeave: true });
    let passed = false;
    await privateChatsOnly()(ctx, async () => void (passed = true));
    expect(passed).to.equal(false);
    expect(calls).to.have.length(1);
    expect(calls[0]).to.match(/^answer:.*private chat/);
  });
});
