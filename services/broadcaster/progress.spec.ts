import { expect } from 'chai';
import { duration } from './progress';

describe('broadcaster progress durations', () => {
  it('abbreviates in the admin language, hours, minutes or seconds by size', () => {
    expect(duration(3725, 'en')).to.equal('1 h 2 min');
    expect(duration(185, 'en')).to.equal('3 min 5 s');
    expect(duration(9.6, 'en')).to.equal('10 s');
    expect(duration(3725, 'ru')).to.equal('1 ч 2 мин');
    expect(duration(185, 'ru')).to.equal('3 мин 5 с');
    expect(duration(-4, 'ru')).to.equal('0 с');
  });
});
