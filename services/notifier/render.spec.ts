import { expect } from 'chai';
import { NotificationRequest, TEMPLATES, type Template, type TemplateNotificationRequest } from '../../lib/contracts';
import { hasKey, LANGUAGES, placeholdersOf } from '../../lib/i18n';
import { renderedParamNames, renderNotification } from './render';
import type { Addressee } from './deliver';

/**
 * Parameters a text may leave out, each for a reason. Every other parameter a template is given is shown, and a text
 * never asks for one it is not given (t() would throw).
 */
const NOT_SHOWN: Partial<Record<Template, string[]>> = {
  // chain-monitor's configured depth: in finalized mode it is not what the user waits for.
  'deposit.detected': ['confirmations'],
};

const to = (languageCode: string, names: [string, string][] = []): Addressee => ({
  chatId: '1',
  userId: '7',
  languageCode,
  names: new Map(names),
});
const options = { decimals: 18, explorerUrl: 'https://testnet.bscscan.com' };
const units = (whole: string) => `${whole}${'0'.repeat(18)}`;
const hash = `0x${'ab'.repeat(32)}`;

let sequence = 0;
const render = (template: Template, params: object, languageCode = 'en', names: [string, string][] = []) =>
  renderNotification(
    NotificationRequest.parse({ id: `n${++sequence}`, userId: '7', template, params }) as TemplateNotificationRequest,
    to(languageCode, names),
    options,
  );

describe('notification texts', () => {
  for (const template of TEMPLATES) {
    it(`${template} has a text in every language with exactly the parameters it is given`, () => {
      const shown = renderedParamNames(template)
        .filter((name) => !(NOT_SHOWN[template] ?? []).includes(name))
        .sort();
      for (const lang of LANGUAGES) {
        expect(hasKey(template, lang), `${lang}: ${template}`).to.equal(true);
        expect(placeholdersOf(lang, template), `${lang}: ${template}`).to.deep.equal(shown);
      }
    });
  }
});

describe('renderNotification', () => {
  it('shows amounts in USDT as the other templates do, and links the transaction on the explorer', () => {
    const sent = render('withdrawal.sent', { withdrawalId: '12', amount: '25500000000000000000', txHash: hash });
    expect(sent).to.contain('#12').and.contain('25.5 USDT').and.contain(`<code>${hash}</code>`);
    expect(sent).to.contain(`<a href="https://testnet.bscscan.com/tx/${hash}">`);
    const confirmed = render('withdrawal.confirmed', { withdrawalId: '12', amount: units('25'), txHash: hash }, 'ru');
    expect(confirmed)
      .to.contain('25 USDT')
      .and.contain(`https://testnet.bscscan.com/tx/${hash}`)
      .and.contain('завершён');
  });

  it('shows the fee, the destination and the reason of a withdrawal, escaped', () => {
    const requested = render('withdrawal.requested', {
      withdrawalId: '3',
      amount: units('40'),
      fee: '1500000000000000000',
      destination: '0xabc',
    });
    expect(requested).to.contain('40 USDT').and.contain('fee 1.5 USDT').and.contain('<code>0xabc</code>');
    const rejected = render('withdrawal.rejected', {
      withdrawalId: '3',
      amount: units('40'),
      reason: '<b>KYC</b> & co',
    });
    expect(rejected).to.contain('&lt;b&gt;KYC&lt;/b&gt; &amp; co').and.contain('back on your balance');
  });

  it('tells admins what to do, and who asked', () => {
    const pending = render('admin.withdrawal_pending', {
      withdrawalId: '5',
      amount: units('150'),
      userId: '42',
      destination: '0xdef',
    });
    expect(pending).to.contain('/approve 5').and.contain('/reject 5').and.contain('user #42').and.contain('150 USDT');
    const dead = render(
      'admin.payout_dead',
      { withdrawalId: '5', amount: units('150'), userId: '42', error: 'insufficient funds for gas' },
      'ru',
    );
    expect(dead).to.contain('/retry 5').and.contain('/void 5').and.contain('insufficient funds for gas');
  });

  it('names the user a commission comes from instead of showing their id', () => {
    const text = render('referral.commission', { amount: units('1'), level: 2, fromUserId: '8' }, 'en', [
      ['8', 'Olga'],
    ]);
    expect(text).to.contain("from Olga's deposit").and.not.contain('8');
  });

  it("tells admins which notification was given up and Telegram's last error, escaped", () => {
    const text = render('admin.notification_abandoned', {
      notificationId: 'deposit-credited:9',
      recipient: 'user #7',
      attempts: 12,
      error: `400: Bad Request: can't parse entities: Unsupported start tag "<x>" & more`,
    });
    expect(text)
      .to.contain('deposit-credited:9')
      .and.contain('user #7')
      .and.contain('12 times')
      .and.contain("can't parse entities: Unsupported start tag &quot;&lt;x&gt;&quot; &amp; more");
  });
});
