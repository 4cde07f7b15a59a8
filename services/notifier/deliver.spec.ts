// deliverNotification with its ports in memory: what is sent, recorded or judged, without a broker or a database.
import { expect } from 'chai';
import { Errors } from 'moleculer';
import type { Contact, MessageContent, NotificationRequest } from '../../lib/contracts';
import { LeaseLostError } from '../../lib/lease';
import { rootLogger } from '../../lib/logger';
import { RetryLaterError } from '../../lib/telegram-budget';
import { splitHtml } from '../../lib/telegram-text';
import { deliverNotification, UnrecordedSends, type DeliveryPorts, type DeliveryStore } from './deliver';
import type { FailureStatus, PriorAttempt, SendFailure } from './notification-log';

interface Row {
  status: 'sending' | 'sent' | 'ambiguous';
  attempts: number;
  messageIds: number[];
  attemptedPart: number | null;
}

class MemoryLog implements DeliveryStore {
  readonly attempts = new Map<string, Row>();
  readonly failures = new Map<string, SendFailure & { status: FailureStatus; count: number }>();
  failRecordSent = 0;

  async attemptOf(id: string): Promise<PriorAttempt | undefined> {
    const row = this.attempts.get(id);
    const failure = this.failures.get(id)?.status ?? null;
    if (!row && !failure) return undefined;
    return {
      status: row?.status ?? null,
      attempts: row?.attempts ?? 0,
      messageIds: [...(row?.messageIds ?? [])],
      attemptedPart: row?.attemptedPart ?? null,
      failure,
    };
  }
  async recordAttempt(id: string, _u: string | null, _c: string, _t: string | null, part: number) {
    const known = this.attempts.get(id);
    if (known && known.status !== 'sending') return false;
    this.attempts.set(id, {
      status: 'sending',
      attempts: (known?.attempts ?? 0) + 1,
      messageIds: known?.messageIds ?? [],
      attemptedPart: part,
    });
    return true;
  }
  async recordPartAttempt(id: string, part: number) {
    this.attempts.get(id)!.attemptedPart = part;
  }
  async recordProgress(id: string, messageIds: number[]) {
    const row = this.attempts.get(id);
    if (row?.status === 'sending') row.messageIds = [...messageIds];
    else if (!row)
      this.attempts.set(id, { status: 'sending', attempts: 1, messageIds: [...messageIds], attemptedPart: null });
  }
  async recordSent(id: string, messageIds: number[]) {
    if (this.failRecordSent-- > 0) throw new Error('PostgreSQL is away');
    const row = this.attempts.get(id) ?? { status: 'sent', attempts: 1, messageIds: [], attemptedPart: null };
    this.attempts.set(id, { ...row, status: 'sent', messageIds: [...messageIds], attemptedPart: null });
    const failure = this.failures.get(id);
    if (failure) failure.status = 'sent';
  }
  async recordAmbiguous(id: string) {
    const known = this.attempts.get(id);
    if (known?.status === 'sending') known.status = 'ambiguous';
  }
  async releaseAttempt(id: string) {
    const row = this.attempts.get(id);
    if (row?.status !== 'sending') return;
    if (row.messageIds.length === 0) this.attempts.delete(id);
    else row.attemptedPart = null;
  }
  async recordFailure(request: NotificationRequest, failure: SendFailure, permanent = false) {
    await this.releaseAttempt(request.id);
    const known = this.failures.get(request.id);
    if (known && known.status !== 'pending') return undefined;
    const count = (known?.count ?? 0) + 1;
    const status: FailureStatus = permanent ? 'failed' : count >= 12 ? 'abandoned' : 'pending';
    this.failures.set(request.id, { ...failure, status, count });
    return status;
  }
}

const contact: Contact = { userId: '7', telegramId: '7007', languageCode: 'en', firstName: 'Ann' };

/** What the fake Telegram does with request `index` of a content (a long text: one per part). */
type Behaviour = (index: number) => Promise<number>;

let nextMessageId = 1;
const ok: Behaviour = async () => nextMessageId++;

function ports(log: MemoryLog, behave: Behaviour, lease = { held: true }, budget: { wait?: number } = {}) {
  const sent: string[] = [];
  const unreachable: { telegramId: string; reason: string }[] = [];
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
    // sendContent's order per request: the budget's slot, attempting, the request, answered.
    send: async (_chatId, content: MessageContent, progress) => {
      const parts = content.kind === 'text' ? splitHtml(content.text) : [content.kind];
      const messageIds: number[] = [];
      for (let i = progress.startAt; i < parts.length; i++) {
        if (budget.wait !== undefined) throw new RetryLaterError(budget.wait);
        await progress.attempting(i);
        const id = await behave(i);
        sent.push(parts[i]!);
        messageIds.push(id);
        await progress.answered(i, [id]);
      }
      return { messageIds, fileIds: [] };
    },
    markUnreachable: async (telegramId, reason) => {
      unreachable.push({ telegramId, reason });
    },
    unrecorded: new UnrecordedSends(),
    logger: rootLogger().child({ service: 'deliver-spec' }, { level: 'silent' }),
  };
  return { value, sent, unreachable };
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

const refused =
  (code: number, description = 'Forbidden: bot was blocked by the user'): Behaviour =>
  async () => {
    throw Object.assign(new Error('refused'), { response: { error_code: code, description } });
  };
const noAnswer: Behaviour = async () => {
  throw Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' });
};

describe('deliverNotification', () => {
  it('sends once and records it; a redelivery of the id sends nothing', async () => {
    const log = new MemoryLog();
    const { value, sent } = ports(log, ok);
    expect(await deliverNotification(credited, value)).to.equal('sent');
    expect(await deliverNotification(credited, value)).to.equal('duplicate');
    expect(sent).to.have.length(1);
    expect(log.attempts.get(credited.id)).to.include({ status: 'sent', attempts: 1 });
  });

  it('does not send an informational message whose earlier attempt has no outcome, and records it as ambiguous', async () => {
    const log = new MemoryLog();
    log.attempts.set(detected.id, { status: 'sending', attempts: 1, messageIds: [], attemptedPart: 0 });
    const { value, sent } = ports(log, ok);
    expect(await deliverNotification(detected, value)).to.equal('ambiguous');
    expect(sent).to.have.length(0);
    expect(log.attempts.get(detected.id)!.status).to.equal('ambiguous');
  });

  it('sends a credit notice whose earlier attempt has no outcome again, counting the attempt', async () => {
    const log = new MemoryLog();
    log.attempts.set(credited.id, { status: 'sending', attempts: 1, messageIds: [], attemptedPart: 0 });
    const { value, sent } = ports(log, ok);
    expect(await deliverNotification(credited, value)).to.equal('sent');
    expect(sent).to.have.length(1);
    expect(log.attempts.get(credited.id)).to.include({ status: 'sent', attempts: 2 });
  });

  it('stores a 5xx for the retry job and forgets the attempt (its outcome is known)', async () => {
    const log = new MemoryLog();
    const { value, unreachable } = ports(log, refused(502, 'Bad Gateway'));
    expect(await deliverNotification(detected, value)).to.equal('failed');
    expect(log.attempts.has(detected.id)).to.equal(false);
    expect(log.failures.get(detected.id)).to.include({ code: 502, status: 'pending' });
    expect(unreachable).to.have.length(0);
  });

  for (const [code, description] of [
    [403, 'Forbidden: bot was blocked by the user'],
    [403, 'Forbidden: user is deactivated'],
    [400, 'Bad Request: chat not found'],
  ] as const) {
    it(`marks the user unreachable on ${code} "${description}" and never retries`, async () => {
      const log = new MemoryLog();
      const { value, sent, unreachable } = ports(log, refused(code, description));
      expect(await deliverNotification(credited, value)).to.equal('undeliverable');
      expect(unreachable).to.deep.equal([{ telegramId: contact.telegramId, reason: description }]);
      expect(log.failures.get(credited.id)).to.include({ code, status: 'failed' });
      expect(log.attempts.has(credited.id)).to.equal(false);
      // A copy of the request is not sent again.
      const again = ports(log, ok);
      again.value.store = log;
      expect(await deliverNotification(credited, again.value)).to.equal('undeliverable');
      expect(sent).to.have.length(0);
      expect(again.sent).to.have.length(0);
    });
  }

  it('records any other 400 (the message itself is wrong) as failed for good, without marking the user', async () => {
    const log = new MemoryLog();
    const { value, unreachable } = ports(log, refused(400, 'Bad Request: message is too long'));
    expect(await deliverNotification(credited, value)).to.equal('undeliverable');
    expect(unreachable).to.have.length(0);
    expect(log.failures.get(credited.id)).to.include({ code: 400, status: 'failed' });
  });

  it('records nothing when users cannot be told the user is unreachable: the request is redelivered', async () => {
    const log = new MemoryLog();
    const { value } = ports(log, refused(403));
    value.markUnreachable = async () => {
      throw new Errors.MoleculerClientError('users refused', 400);
    };
    const error = await deliverNotification(credited, value).catch((e: Error) => e);
    expect(error).to.be.instanceOf(Error);
    expect(log.failures.has(credited.id), 'nothing recorded: Telegram is asked again').to.equal(false);
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
    // (a send put off after its request was attempted: the attempt is released, nothing is on its way)
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
    log.attempts.set(credited.id, { status: 'sending', attempts: 1, messageIds: [], attemptedPart: 0 });
    const { value, sent } = ports(log, ok);
    value.unrecorded.remember(credited.id, [42]);
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

  describe('a long text (several Telegram messages)', () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
    const long = (id: string, ambiguity: 'resend' | 'skip' = 'resend'): NotificationRequest => ({
      id,
      userId: '7',
      content: { kind: 'text', text: words(2000) },
      ambiguity,
    });
    const parts = splitHtml(words(2000));

    it('records the progress after each part and finishes with every message id', async () => {
      expect(parts.length).to.be.at.least(3);
      const log = new MemoryLog();
      const { value, sent } = ports(log, ok);
      expect(await deliverNotification(long('long:1'), value)).to.equal('sent');
      expect(sent).to.deep.equal(parts);
      expect(log.attempts.get('long:1')).to.include({ status: 'sent', attemptedPart: null });
      expect(log.attempts.get('long:1')!.messageIds).to.have.length(parts.length);
    });

    it('after a crash between two parts, resumes with the next part and sends no part twice', async () => {
      const log = new MemoryLog();
      // Part 0 and 1 sent and recorded; the crash came before part 2 was attempted.
      log.attempts.set('long:2', { status: 'sending', attempts: 1, messageIds: [11, 12], attemptedPart: 1 });
      const { value, sent } = ports(log, ok);
      expect(await deliverNotification(long('long:2', 'skip'), value)).to.equal('sent');
      expect(sent).to.deep.equal(parts.slice(2));
      expect(log.attempts.get('long:2')!.messageIds.slice(0, 2)).to.deep.equal([11, 12]);
    });

    it('a part whose outcome is unknown follows the rule: resent under resend, the rest not sent under skip', async () => {
      const log = new MemoryLog();
      log.attempts.set('long:3', { status: 'sending', attempts: 1, messageIds: [11], attemptedPart: 1 });
      log.attempts.set('long:4', { status: 'sending', attempts: 1, messageIds: [11], attemptedPart: 1 });
      const { value, sent } = ports(log, ok);
      expect(await deliverNotification(long('long:3', 'resend'), value)).to.equal('sent');
      expect(sent).to.deep.equal(parts.slice(1));
      expect(await deliverNotification(long('long:4', 'skip'), value)).to.equal('ambiguous');
      expect(sent).to.have.length(parts.length - 1);
    });

    it('a 5xx at part 2 keeps parts 0 and 1: the retry sends from part 2', async () => {
      const log = new MemoryLog();
      const { value, sent } = ports(log, async (i) => {
        if (i === 2)
          throw Object.assign(new Error('bad gateway'), { response: { error_code: 502, description: 'Bad Gateway' } });
        return nextMessageId++;
      });
      expect(await deliverNotification(long('long:5'), value)).to.equal('failed');
      expect(log.attempts.get('long:5')).to.include({ status: 'sending', attemptedPart: null });
      expect(log.attempts.get('long:5')!.messageIds).to.have.length(2);
      const retry = ports(log, ok);
      expect(await deliverNotification(long('long:5'), retry.value)).to.equal('sent');
      expect([...sent, ...retry.sent]).to.deep.equal(parts);
    });

    it('remembers parts sent while PostgreSQL was away and records them on the redelivery, sending on from there', async () => {
      const log = new MemoryLog();
      const { value, sent } = ports(log, ok);
      log.attempts.set('long:6', { status: 'sending', attempts: 1, messageIds: [11], attemptedPart: 1 });
      value.unrecorded.remember('long:6', [11, 12], false);
      expect(await deliverNotification(long('long:6', 'skip'), value)).to.equal('sent');
      expect(sent).to.deep.equal(parts.slice(2));
    });
  });
});
