// deliverNotification with its ports in memory: what is sent, recorded or judged, without a broker or a database.
import { expect } from 'chai';
import type { Contact, NotificationRequest } from '../../lib/contracts';
import { LeaseLostError } from '../../lib/lease';
import { rootLogger } from '../../lib/logger';
import { RetryLaterError } from '../../lib/telegram-budget';
import { deliverNotification, UnrecordedSends, type DeliveryPorts, type DeliveryStore } from './deliver';
import type { AttemptStatus, SendFailure } from './notification-log';

class MemoryLog implements DeliveryStore {
  readonly attempts = new Map<string, { status: AttemptStatus; attempts: number }>();
  readonly failures = new Map<string, SendFailure>();
  failRecordSent = 0;

  async attemptOf(id: string) {
    return this.attempts.get(id);
  }
  async recordAttempt(id: string) {
    const known = this.attempts.get(id);
    if (known && known.status !== 'sending') return false;
    this.attempts.set(id, { status: 'sending', attempts: (known?.attempts ?? 0) + 1 });
    return true;
  }
  async recordSent(id: string) {
    if (this.failRecordSent-- > 0) throw new Error('PostgreSQL is away');
    this.attempts.get(id)!.status = 'sent';
  }
  async recordAmbiguous(id: string) {
    const known = this.attempts.get(id);
    if (known?.status === 'sending') known.status = 'ambiguous';
  }
  async recordFailure(request: NotificationRequest, failure: SendFailure) {
    if (this.attempts.get(request.id)?.status === 'sending') this.attempts.delete(request.id);
    this.failures.set(request.id, failure);
  }
}

const contact: Contact = { userId: '7', telegramId: '7007', languageCode: 'en', firstName: 'Ann' };

function ports(log: MemoryLog, send: DeliveryPorts['send'], lease = { held: true }, budget: { wait?: number } = {}) {
  const sent: string[] = [];
  const value: DeliveryPorts = {
    store: log,
    lease: async () => ({
      assertHeld: () => {
        if (!lease.held) throw new LeaseLostError('lease');
      },
      release: async () => undefined,
    }),
    contacts: async () => [contact],
    chatLanguage: async () => null,
    render: (request) => `text of ${request.template}`,
    slot: async () => {
      if (budget.wait !== undefined) throw new RetryLaterError(budget.wait);
    },
    send: async (chatId, text) => {
      const answer = await send(chatId, text);
      sent.push(text);
      return answer;
    },
    unrecorded: new UnrecordedSends(),
    logger: rootLogger().child({ service: 'deliver-spec' }, { level: 'silent' }),
  };
  return { value, sent };
}

const detected: NotificationRequest = {
  id: 'deposit-detected:1',
  userId: '7',
  template: 'deposit.detected',
  params: { amount: '1', txHash: `0x${'a'.repeat(64)}`, confirmations: 3 },
};
const credited: NotificationRequest = {
  id: 'deposit-credited:1',
  userId: '7',
  template: 'deposit.credited',
  params: { amount: '1', level: 1 },
};

const ok = async () => ({ message_id: 1 });
const refused = (code: number) => async () => {
  throw Object.assign(new Error('refused'), {
    response: { error_code: code, description: 'Forbidden: bot was blocked by the user' },
  });
};
const noAnswer = async () => {
  throw Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' });
};

describe('deliverNotification', () => {
  it('sends once and records it; a redelivery of the id sends nothing', async () => {
    const log = new MemoryLog();
    const { value, sent } = ports(log, ok);
    expect(await deliverNotification(credited, value)).to.equal('sent');
    expect(await deliverNotification(credited, value)).to.equal('duplicate');
    expect(sent).to.have.length(1);
    expect(log.attempts.get(credited.id)).to.deep.equal({ status: 'sent', attempts: 1 });
  });

  it('does not send an informational message whose earlier attempt has no outcome, and records it as ambiguous', async () => {
    const log = new MemoryLog();
    log.attempts.set(detected.id, { status: 'sending', attempts: 1 });
    const { value, sent } = ports(log, ok);
    expect(await deliverNotification(detected, value)).to.equal('ambiguous');
    expect(sent).to.have.length(0);
    expect(log.attempts.get(detected.id)!.status).to.equal('ambiguous');
  });

  it('sends a credit notice whose earlier attempt has no outcome again, counting the attempt', async () => {
    const log = new MemoryLog();
    log.attempts.set(credited.id, { status: 'sending', attempts: 1 });
    const { value, sent } = ports(log, ok);
    expect(await deliverNotification(credited, value)).to.equal('sent');
    expect(sent).to.have.length(1);
    expect(log.attempts.get(credited.id)).to.deep.equal({ status: 'sent', attempts: 2 });
  });

  it("stores Telegram's refusal for the retry job and forgets the attempt (its outcome is known)", async () => {
    const log = new MemoryLog();
    const { value } = ports(log, refused(403));
    expect(await deliverNotification(detected, value)).to.equal('failed');
    expect(log.attempts.has(detected.id)).to.equal(false);
    expect(log.failures.get(detected.id)).to.include({ code: 403 });
  });

  it("gives a delivery the budget puts off briefly back to its channel, and stores a long 429 pause's for the retry job", async () => {
    const log = new MemoryLog();
    const budget: { wait?: number } = { wait: 800 };
    const { value, sent } = ports(log, ok, { held: true }, budget);
    const error = await deliverNotification(detected, value).then(
      () => expect.fail('expected RetryLaterError'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RetryLaterError);
    expect(log.attempts.has(detected.id), 'no attempt left to be judged ambiguous').to.equal(false);
    budget.wait = 90_500;
    expect(await deliverNotification(detected, value)).to.equal('failed');
    expect(log.failures.get(detected.id)).to.include({ code: 429, retryAfterSeconds: 91 });
    budget.wait = undefined;
    expect(await deliverNotification(detected, value)).to.equal('sent');
    expect(sent).to.have.length(1);
  });

  it('stores a send put off after a 429 (a long pause) for the retry job, with the wait, even if informational', async () => {
    const log = new MemoryLog();
    const { value } = ports(log, async () => {
      throw new RetryLaterError(90_500);
    });
    expect(await deliverNotification(detected, value)).to.equal('failed');
    expect(log.attempts.has(detected.id)).to.equal(false);
    expect(log.failures.get(detected.id)).to.include({ code: 429, retryAfterSeconds: 91 });
  });

  it('treats a send without an answer as unknown: informational ambiguous, a credit notice retried', async () => {
    const log = new MemoryLog();
    const { value } = ports(log, noAnswer);
    expect(await deliverNotification(detected, value)).to.equal('ambiguous');
    expect(log.failures.has(detected.id)).to.equal(false);
    expect(await deliverNotification(credited, value)).to.equal('failed');
    expect(log.failures.get(credited.id)).to.include({ code: null });
  });

  it('retries recording a send rather than sending again', async () => {
    const log = new MemoryLog();
    log.failRecordSent = 1;
    const { value, sent } = ports(log, ok);
    expect(await deliverNotification(credited, value)).to.equal('sent');
    expect(sent).to.have.length(1);
    expect(log.attempts.get(credited.id)!.status).to.equal('sent');
  });

  it('records a send this process made but could not record, on the redelivery, without sending again', async () => {
    const log = new MemoryLog();
    log.attempts.set(credited.id, { status: 'sending', attempts: 1 });
    const { value, sent } = ports(log, ok);
    value.unrecorded.remember(credited.id, 42);
    expect(await deliverNotification(credited, value)).to.equal('duplicate');
    expect(sent).to.have.length(0);
    expect(log.attempts.get(credited.id)!.status).to.equal('sent');
  });

  it('sends nothing once its lease may have passed to another delivery', async () => {
    const log = new MemoryLog();
    const { value, sent } = ports(log, ok, { held: false });
    const error = await deliverNotification(credited, value).catch((e: Error) => e);
    expect(error).to.be.instanceOf(LeaseLostError);
    expect(sent).to.have.length(0);
  });
});
