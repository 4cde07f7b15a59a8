import { expect } from 'chai';
import { parseSession } from './session';

describe('parseSession', () => {
  it('keeps only what a session may hold', () => {
    expect(parseSession(null)).to.deep.equal({});
    expect(parseSession('{"awaiting":"wallet"}')).to.deep.equal({ awaiting: 'wallet' });
    expect(parseSession('{"awaiting":"something-else","x":1}')).to.deep.equal({});
    expect(parseSession('not json')).to.deep.equal({});
    expect(parseSession('[1]')).to.deep.equal({});
  });

  it('keeps a withdrawal dialog and an admin’s pending rejection', () => {
    const dialog = { id: 'AbCdEfGhIjKlMn_-', amount: '25000000000000000000', verified: true };
    expect(parseSession(JSON.stringify({ awaiting: 'withdraw_password', withdrawal: dialog }))).to.deep.equal({
      awaiting: 'withdraw_password',
      withdrawal: dialog,
    });
    expect(parseSession('{"awaiting":"reject_reason","rejecting":"12"}')).to.deep.equal({
      awaiting: 'reject_reason',
      rejecting: '12',
    });
    // A dialog that could not have been made by the bot is no dialog.
    expect(parseSession(JSON.stringify({ withdrawal: { id: 'short' } }))).to.deep.equal({});
    expect(parseSession(JSON.stringify({ withdrawal: { ...dialog, amount: '-1' } }))).to.deep.equal({});
  });
});
