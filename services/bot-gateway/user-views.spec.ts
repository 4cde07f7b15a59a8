import { expect } from 'chai';
import { userRecord } from '../../test/support/user-record';
import { parseUserQuery, unreachableView, userView } from './user-views';

describe('user views', () => {
  it('reads a Telegram id or a username, and nothing else', () => {
    expect(parseUserQuery(' 123456789 ')).to.deep.equal({ telegramId: '123456789' });
    expect(parseUserQuery('9223372036854775807')).to.deep.equal({ telegramId: '9223372036854775807' });
    expect(parseUserQuery('@Ann_Smith')).to.deep.equal({ username: 'Ann_Smith' });
    expect(parseUserQuery('ann')).to.deep.equal({ username: 'ann' });
    for (const bad of ['', '12ab', '-5', '9223372036854775808', '12345678901234567890', '@', '@_x', 'a b', '1.5'])
      expect(parseUserQuery(bad), bad).to.equal(undefined);
  });

  it('shows reachability, last visit and the record, escaping what users typed', () => {
    const user = userRecord('7', {
      username: 'ann',
      firstName: '<b>Ann</b>',
      lastSeenAt: '2026-12-01T10:05:00.000Z',
      unreachableAt: '2026-12-01T11:30:00.000Z',
      unreachableReason: 'Forbidden: bot was blocked by the user',
    });
    const text = userView('en', user);
    expect(text).to.contain('User #7').and.contain('Username: @ann').and.contain('Name: &lt;b&gt;Ann&lt;/b&gt;');
    expect(text).to.contain('Last seen: 2026-12-01 10:05 UTC');
    expect(text).to.contain('unreachable since 2026-12-01 11:30 UTC (Forbidden: bot was blocked by the user)');
    const fresh = userView('ru', userRecord('8', { walletAddress: null }));
    expect(fresh).to.contain('Был в боте: никогда').and.contain('Кошелёк: не указан').and.contain('сообщения доходят');
  });

  it('lists the unreachable users, or says there are none', () => {
    expect(unreachableView('en', { count: 0, recent: [] })).to.contain('No user is unreachable');
    const text = unreachableView('en', {
      count: 12,
      recent: [
        {
          userId: '3',
          telegramId: '555',
          username: null,
          firstName: 'Bo',
          unreachableAt: '2026-12-01T11:30:00.000Z',
          reason: 'Bad Request: chat not found',
        },
      ],
    });
    expect(text).to.contain('Unreachable users: 12').and.contain('The most recently marked:');
    expect(text).to.contain(
      '• 2026-12-01 11:30 UTC · user #3 Bo (Telegram <code>555</code>): Bad Request: chat not found',
    );
  });
});
