import { expect } from 'chai';
import { commandOf, isCommandFor } from './commands';

describe('commands', () => {
  it("recognise the bot's commands, with arguments or the bot's name", () => {
    expect(commandOf('/withdraw')).to.equal('withdraw');
    expect(commandOf('/withdraw 25')).to.equal('withdraw');
    expect(commandOf('/start@sigmatrade_bot abc')).to.equal('start');
    expect(commandOf('/approve 12')).to.equal('approve');
  });

  it('take nothing else for a command: such a text may be a password', () => {
    for (const text of ['/Wrong2pass', '/withdrawx', '/frobnicate', 'withdraw', ' /withdraw', '/WITHDRAW'])
      expect(commandOf(text), text).to.equal(undefined);
  });

  it('give admin commands to admins only', () => {
    expect(isCommandFor('/pending', true)).to.equal(true);
    expect(isCommandFor('/pending', false)).to.equal(false);
    expect(isCommandFor('/balance', false)).to.equal(true);
  });
});
