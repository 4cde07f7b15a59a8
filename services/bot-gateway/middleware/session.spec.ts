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
});
