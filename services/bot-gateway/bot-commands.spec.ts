import { expect } from 'chai';
import { commandListings } from './bot-commands';
import { ADMIN_COMMANDS, USER_COMMANDS } from './commands';
import { helpText } from './withdrawal-views';

describe('bot commands', () => {
  it('list the user commands by default and all commands in each admin chat, in English and Russian', () => {
    const listings = commandListings(['101', '202']);
    const summary = listings.map((l) => [JSON.stringify(l.scope), l.language_code ?? '', l.commands.length]);
    const users = USER_COMMANDS.length;
    const all = users + ADMIN_COMMANDS.length;
    expect(summary).to.deep.equal([
      ['{"type":"default"}', '', users],
      ['{"type":"default"}', 'ru', users],
      ['{"type":"chat","chat_id":101}', '', all],
      ['{"type":"chat","chat_id":101}', 'ru', all],
      ['{"type":"chat","chat_id":202}', '', all],
      ['{"type":"chat","chat_id":202}', 'ru', all],
    ]);
    expect(commandListings([])).to.have.length(2);
  });

  it("describe each command within Telegram's limits (1-256 characters, plain text)", () => {
    for (const listing of commandListings(['1'])) {
      for (const { command, description } of listing.commands) {
        expect(command).to.match(/^[a-z0-9_]{1,32}$/);
        expect(description.length, command).to.be.within(1, 256);
        expect(description, command).to.not.match(/[<>&]/);
      }
    }
  });

  it('are the commands /help explains: every user command to users, every admin command to admins', () => {
    for (const lang of ['en', 'ru'] as const) {
      const forUsers = helpText(lang, false);
      const forAdmins = helpText(lang, true);
      for (const command of USER_COMMANDS)
        expect(forUsers, `${lang} /${command}`).to.match(new RegExp(`/${command}\\b`));
      for (const command of ADMIN_COMMANDS) {
        expect(forAdmins, `${lang} /${command}`).to.match(new RegExp(`/${command}\\b`));
        expect(forUsers, `${lang} /${command}`).to.not.match(new RegExp(`/${command}\\b`));
      }
      // Nothing in the help names a command the bot does not have.
      const named = [...forAdmins.matchAll(/(?:^|\s)\/([a-z]+)/g)].map((m) => m[1]);
      expect(named.filter((c) => ![...USER_COMMANDS, ...ADMIN_COMMANDS].includes(c as never))).to.deep.equal([]);
    }
  });
});
