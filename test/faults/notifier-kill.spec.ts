// A notifier process SIGKILLed while it holds messages: the other replica takes them over within seconds (its
// lease lapses, JetStream redelivers after its short ack wait), and an attempt the dead process started but never
// recorded is handled by the rule of its kind: an informational message is not sent again, a credit notice is.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { sendToChannel } from '../../lib/runtime';
import { startFaultBed, type FaultBed } from '../support/fault-bed';
import type { NodeProcess } from '../support/node-process';
import { eventually } from '../support/system';
import type { SimulatedUser } from '../support/telegram-emulator';

const CHANNEL = 'notifications.requested';

describe('a notifier killed mid-work', function () {
  this.timeout(180_000);
  let bed: FaultBed;

  before(async () => {
    bed = await startFaultBed({ prefix: 'notify-kill' });
    await bed.spawn('users').started();
  });
  after(async () => bed?.stop());

  async function recipients(count: number): Promise<{ tg: SimulatedUser; userId: string }[]> {
    await bed.client.waitForServices(['users'], 30_000);
    const result = [];
    for (let i = 0; i < count; i++) {
      const tg = bed.emulator.user({ first_name: `R${i}`, language_code: 'en' });
      tg.sendText('/start');
      const { user } = await bed.client.call<{ user: { id: string } }, object>('users.register', {
        telegramId: String(tg.id),
        firstName: `R${i}`,
        languageCode: 'en',
      });
      result.push({ tg, userId: user.id });
    }
    return result;
  }

  const request = (userId: string, template: string, params: Record<string, string | number>) => ({
    id: `${template}:${randomBytes(6).toString('hex')}`,
    userId,
    template,
    params,
  });

  const attempt = async (id: string) =>
    (
      await bed.pool.query<{ status: string; attempts: number }>(
        'SELECT status, attempts FROM outgoing_messages WHERE notification_id = $1',
        [id],
      )
    ).rows[0];

  it('the surviving replica delivers what the dead one held, each message once unless its outcome was unknown', async () => {
    const a = bed.spawn('notifier');
    const b = bed.spawn('notifier');
    await Promise.all([a.started(), b.started()]);
    const people = await recipients(60);
    const requests = people.map((p) =>
      request(p.userId, 'deposit.credited', { amount: '1000000000000000000', level: 1 }),
    );
    for (const r of requests) await sendToChannel(bed.client, CHANNEL, r, r.id);

    await eventually(async () => bed.emulator.sentMessages().length >= 15, '15 messages sent');
    await a.kill('SIGKILL');
    const killedAt = Date.now();
    await eventually(
      async () => people.every((p) => p.tg.messages().length >= 1),
      'every recipient to get the message',
      60_000,
    );
    const lastAt = Math.max(
      ...bed.emulator
        .calls('sendMessage')
        .filter((c) => c.status === 200)
        .map((c) => c.at),
    );
    const delaySeconds = Math.max(0, Math.round((lastAt - killedAt) / 100) / 10);

    const doubled = people.filter((p) => p.tg.messages().length > 1);
    for (const p of doubled) {
      // Only a send whose outcome the dead process never recorded may have gone out twice (a credit notice is resent).
      const id = requests[people.indexOf(p)]!.id;
      expect(await attempt(id)).to.deep.equal({ status: 'sent', attempts: 2 });
    }
    expect(people.every((p) => p.tg.messages().length <= 2)).to.equal(true);
    console.log(
      `      figures: last message ${delaySeconds} s after the kill; ${people.length - doubled.length} of ` +
        `${people.length} recipients got exactly one message, ${doubled.length} got a resent credit notice`,
    );
    await b.kill('SIGTERM');
  });

  describe('an attempt that was sent but never recorded (the process died waiting for Telegram)', () => {
    async function sendAndKill(template: string, params: Record<string, string | number>) {
      const [person] = await recipients(1);
      const r = request(person!.userId, template, params);
      const first: NodeProcess = bed.spawn('notifier');
      await first.started();
      bed.emulator.withholdAnswers('sendMessage', 1);
      await sendToChannel(bed.client, CHANNEL, r, r.id);
      await person!.tg.waitForMessage(/./, 20_000);
      expect(await attempt(r.id)).to.deep.equal({ status: 'sending', attempts: 1 });
      await first.kill('SIGKILL');
      const second = bed.spawn('notifier');
      await second.started();
      return { person: person!, id: r.id, second };
    }

    it('does not send an informational message again, and records it as ambiguous', async () => {
      const { person, id, second } = await sendAndKill('deposit.detected', {
        amount: '1000000000000000000',
        txHash: `0x${'ab'.repeat(32)}`,
        confirmations: 3,
      });
      await eventually(async () => (await attempt(id))?.status === 'ambiguous', 'the attempt judged', 30_000);
      expect(person.tg.messages()).to.have.length(1);
      await second.kill('SIGTERM');
    });

    it('sends a credit notice again, and records the second attempt', async () => {
      const { person, id, second } = await sendAndKill('deposit.credited', { amount: '1000000000000000000', level: 1 });
      await eventually(async () => (await attempt(id))?.status === 'sent', 'the resend recorded', 30_000);
      expect(await attempt(id)).to.deep.equal({ status: 'sent', attempts: 2 });
      expect(person.tg.messages()).to.have.length(2);
      await second.kill('SIGTERM');
    });
  });
});
