import { expect } from 'chai';
import { Errors } from 'moleculer';
import type { WithdrawalRecord } from '../../lib/contracts';
import {
  confirmationText,
  exactAmount,
  formatUtc,
  helpText,
  pendingView,
  refusalOf,
  timeLeft,
  withdrawalRefusalAnswer,
  withdrawalsView,
} from './withdrawal-views';

const units = (whole: string) => `${whole}${'0'.repeat(18)}`;
const WALLET = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';

function withdrawal(id: string, overrides: Partial<WithdrawalRecord> = {}): WithdrawalRecord {
  return {
    id,
    userId: '7',
    amount: units('25'),
    fee: units('1'),
    destination: WALLET,
    status: 'approved',
    decidedBy: null,
    rejectReason: null,
    txHash: null,
    createdAt: '2025-03-04T05:06:07.000Z',
    ...overrides,
  };
}

const refusal = (type: string, data: Record<string, unknown> = {}) => ({ type, data });

describe('withdrawal views', () => {
  it('confirm the exact amount typed, to the last decimal', () => {
    expect(exactAmount('12345678912345678912', 18)).to.equal('12.345678912345678912');
    expect(exactAmount(units('25'), 18)).to.equal('25');
    expect(exactAmount('0', 18)).to.equal('0');
  });

  it('show times in UTC and what is left of a wait, rounded up to the minute', () => {
    expect(formatUtc('2025-03-04T05:06:07.000Z')).to.equal('2025-03-04 05:06 UTC');
    const now = Date.parse('2025-03-04T00:00:00.000Z');
    expect(timeLeft('en', '2025-03-04T05:12:30.000Z', now)).to.equal('5 hours 13 minutes');
    expect(timeLeft('ru', '2025-03-04T00:29:00.000Z', now)).to.equal('29 минут');
    expect(timeLeft('ru', '2025-03-04T01:01:00.000Z', now)).to.equal('1 час 1 минуту');
    expect(timeLeft('en', '2025-03-04T00:00:01.000Z', now)).to.equal('1 minute');
    expect(timeLeft('en', '2025-03-03T00:00:00.000Z', now)).to.equal('1 minute');
  });

  it('tell a refusal from a failure', () => {
    const refused = new Errors.MoleculerClientError('below', 422, 'WITHDRAWAL_BELOW_MINIMUM', { minimum: '1' });
    expect(refusalOf(refused)).to.deep.equal({ type: 'WITHDRAWAL_BELOW_MINIMUM', data: { minimum: '1' } });
    expect(refusalOf(new Errors.ServiceNotAvailableError({ action: 'ledger.quoteWithdrawal' }))).to.equal(undefined);
    expect(refusalOf(new Errors.ServiceNotFoundError({ action: 'ledger.quoteWithdrawal' }))).to.equal(undefined);
    expect(refusalOf(new Errors.MoleculerServerError('boom', 500, 'X'))).to.equal(undefined);
    expect(refusalOf(new Error('plain'))).to.equal(undefined);
  });

  it('explain each refusal of an amount and let the user send another one', () => {
    const answer = (type: string, data: Record<string, unknown> = {}) =>
      withdrawalRefusalAnswer('en', refusal(type, data), 18)!;
    expect(answer('WITHDRAWAL_BELOW_MINIMUM', { minimum: units('10') })).to.deep.equal({
      text: '❌ The smallest withdrawal is 10 USDT. Please send a larger amount.',
      askAgain: true,
    });
    expect(answer('INSUFFICIENT_FUNDS', { available: '30500000000000000000' }).text).to.contain(
      'you have 30.5 USDT available',
    );
    expect(answer('INSUFFICIENT_FUNDS').text).to.contain('does not cover this amount plus the withdrawal fee');
    const daily = answer('DAILY_LIMIT_USER', { limit: units('5000'), used: units('4990') });
    expect(daily.text).to.contain('5000 USDT per 24 hours').and.contain('still withdraw 10 USDT');
    expect(daily.askAgain).to.equal(true);
    expect(answer('DAILY_LIMIT_GLOBAL').askAgain).to.equal(false);
    expect(answer('NO_WALLET')).to.deep.include({ askAgain: false });
    expect(answer('NO_WALLET').text).to.contain('/wallet');
    expect(withdrawalRefusalAnswer('en', refusal('SOMETHING_ELSE'), 18)).to.equal(undefined);
  });

  it('explain the wallet-change cooldown: why, and when withdrawals open again', () => {
    const now = Date.parse('2025-03-04T00:00:00.000Z');
    const cooldown = (lang: 'en' | 'ru') =>
      withdrawalRefusalAnswer(lang, refusal('WALLET_COOLDOWN', { until: '2025-03-04T20:30:00.000Z' }), 18, now)!;
    expect(cooldown('en').askAgain).to.equal(false);
    expect(cooldown('en').text).to.contain('To protect your account').and.contain('as exchanges do');
    expect(cooldown('en').text).to.contain('2025-03-04 20:30 UTC').and.contain('in 20 hours 30 minutes');
    expect(cooldown('ru').text).to.contain('как на биржах').and.contain('через 20 часов 30 минут');
  });

  it('confirm amount, fee, total and destination, and say when an admin decides', () => {
    const quote = {
      amount: '25500000000000000000',
      fee: units('1'),
      total: '26500000000000000000',
      available: units('100'),
      destination: WALLET,
      decimals: 18,
      needsApproval: false,
    };
    const text = confirmationText('en', quote, 18);
    expect(text).to.contain('Amount: <b>25.5 USDT</b>').and.contain('Fee: 1 USDT');
    expect(text).to.contain('Total from your balance: <b>26.5 USDT</b>').and.contain(`<code>${WALLET}</code>`);
    expect(text).to.not.contain('admin');
    expect(confirmationText('ru', { ...quote, needsApproval: true }, 18)).to.contain('проверяет администратор');
  });

  it('list withdrawals with status, reason and transaction, offering to cancel only those waiting for approval', () => {
    const { text, cancellable } = withdrawalsView(
      'en',
      [
        withdrawal('3', { status: 'pending_approval' }),
        withdrawal('2', { status: 'rejected', rejectReason: '<unusual>' }),
        withdrawal('1', { status: 'paid', txHash: `0x${'ab'.repeat(32)}` }),
      ],
      18,
    );
    expect(cancellable).to.deep.equal(['3']);
    expect(text).to.contain('<b>#3</b> · 25 USDT · ⏳ waiting for approval\n2025-03-04 05:06 UTC');
    expect(text).to.contain('Reason: &lt;unusual&gt;').and.contain('✅ paid').and.contain('abab');
    expect(text).to.contain('can still be cancelled');
    expect(withdrawalsView('ru', [], 18)).to.deep.equal({
      text: '📜 У вас ещё нет выводов. Сделать вывод: /withdraw.',
      cancellable: [],
    });
  });

  it('show admins who asked and where the money would go', () => {
    const contacts = [{ userId: '7', telegramId: '7007', languageCode: 'en', firstName: '<Ann>' }];
    const view = pendingView('en', [withdrawal('5', { status: 'pending_approval' })], contacts, 18, 20);
    expect(view.ids).to.deep.equal(['5']);
    expect(view.text)
      .to.contain('Withdrawals waiting for approval: 1')
      .and.contain('user #7 &lt;Ann&gt; (Telegram 7007)');
    expect(view.text).to.contain(`to <code>${WALLET}</code>`).and.contain('(fee 1)');
    expect(pendingView('en', [withdrawal('5')], [], 18, 1).text)
      .to.contain('Only the newest is shown')
      .and.contain('user #7 —');
    expect(pendingView('ru', [], [], 18, 20).text).to.contain('Нет выводов');
  });

  it('list the admin commands in /help for admins only', () => {
    expect(helpText('en', false)).to.contain('/withdraw').and.not.contain('/pending');
    expect(helpText('en', true)).to.contain('/withdraw').and.contain('/pending').and.contain('/reject &lt;id&gt;');
  });
});
