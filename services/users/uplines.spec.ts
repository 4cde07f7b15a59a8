import { expect } from 'chai';
import { planUplines } from './uplines';

describe('planUplines', () => {
  const inviterUplines = [
    { level: 1, userId: '20' },
    { level: 2, userId: '30' },
    { level: 3, userId: '40' },
  ];

  it('puts the inviter at level 1 and the inviter’s uplines one level higher', () => {
    expect(planUplines('1', '10', inviterUplines, 3)).to.deep.equal({
      kind: 'linked',
      uplines: [
        { level: 1, userId: '10' },
        { level: 2, userId: '20' },
        { level: 3, userId: '30' },
      ],
    });
  });

  it('stops at the maximum depth', () => {
    expect(planUplines('1', '10', inviterUplines, 2)).to.deep.equal({
      kind: 'linked',
      uplines: [
        { level: 1, userId: '10' },
        { level: 2, userId: '20' },
      ],
    });
    expect(planUplines('1', '10', inviterUplines, 1)).to.deep.equal({
      kind: 'linked',
      uplines: [{ level: 1, userId: '10' }],
    });
  });

  it('links a user invited by someone without uplines to that one only', () => {
    expect(planUplines('1', '10', [], 3)).to.deep.equal({ kind: 'linked', uplines: [{ level: 1, userId: '10' }] });
  });

  it('orders the inviter’s uplines by level whatever order they come in', () => {
    const plan = planUplines('1', '10', [...inviterUplines].reverse(), 3);
    expect(plan).to.deep.equal(planUplines('1', '10', inviterUplines, 3));
  });

  it('refuses self-invitation and cycles', () => {
    expect(planUplines('10', '10', [], 3)).to.deep.equal({ kind: 'self' });
    expect(planUplines('30', '10', inviterUplines, 3)).to.deep.equal({ kind: 'cycle' });
    // an ancestor beyond the stored depth cannot be seen; within it, any level counts
    expect(planUplines('40', '10', inviterUplines, 1)).to.deep.equal({ kind: 'cycle' });
  });
});
