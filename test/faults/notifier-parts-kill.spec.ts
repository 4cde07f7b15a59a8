// A notifier process SIGKILLed in the middle of a long text (several Telegram messages): the next replica starts
// after the parts recorded as sent, so no part already sent goes out again; only a part whose request had left
// without an answer follows the request's ambiguity rule.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { sendToChannel } from '../../lib/runtime';
import { splitHtml } from '../../lib/telegram-text';
import { startFaultBed, type FaultBed } from '../support/fault-bed';
import { eventually } from '../support/system';
import { formatText } from '../support/telegram-emulator/formatting';

const CHANNEL = 'notifications.requested';

describe('a notifier killed midway through a long text', function () {
  this.timeout(180_000);
  let bed: FaultBed;

  before(async () => {
    bed = await startFaultBed({ prefix: 'notify-parts' });
    await bed.spawn('users').started();
  });
  after(async () => bed?.stop());

  async function recipient() {
    await bed.client.waitForServices(['users'], 30_000);
    const tg = bed.emulator.user({ first_name: 'Reader', language_code: 'en' });
    tg.sendText('/start');
    const { user } = await bed.client.call<{ user: { id: string } }, object>('users.register', {
      telegramId: String(tg.id),
      firstName: 'Reader',
      languageCode: 'en',
    });
    return { tg, userId: user.id };
  }

  // Three parts, each starting with its own marker so the test can tell them apart.
  const text = [0, 1, 2]
    .map((n) => `<b>Part ${n}</b> ` + `${'<i>support</i> reply text '.repeat(200)}`.trim())
    .join('\n\n');
  const parts = splitHtml(text).map((part) => formatText(part, 'HTML').text);

  const attempt = async (id: string) =>
    (
      await bed.pool.query<{ status: string; attempts: number; message_ids: string[] }>(
        'SELECT status, attempts, message_ids FROM outgoing_messages WHERE notification_id = $1',
        [id],
      )
    ).rows[0];

  it('killed right after a part was recorded: the next replica sends the rest, each part once', async () => {
    expect(parts).to.have.length(3);
    const reader = await recipient();
    const id = `long:${randomBytes(6).toString('hex')}`;
    // 'skip' would leave a part in doubt unsent: none is in doubt here, so every part still arrives.
    const request = { id, userId: reader.userId, content: { kind: 'text', text }, ambiguity: 'skip' };
    const dying = bed.spawn('notifier', { FAILPOINTS: 'notifier:part-recorded' });
    await dying.started();
    await sendToChannel(bed.client, CHANNEL, request, id);
    const died = await dying.exit;
    expect(died.signal, 'killed by its failpoint').to.equal('SIGKILL');
    expect(reader.tg.messages().map((m) => m.text)).to.deep.equal(parts.slice(0, 1));

    const next = bed.spawn('notifier');
    await next.started();
    await eventually(async () => (await attempt(id))?.status === 'sent', 'the rest sent and recorded', 60_000);
    expect(reader.tg.messages().map((m) => m.text)).to.deep.equal(parts);
    const row = await attempt(id);
    expect(row!.message_ids.map(Number)).to.deep.equal(reader.tg.messages().map((m) => m.message_id));
    await next.kill('SIGTERM');
  });

  it('killed while a part had no answer: only that part is sent again (rule resend), the first never', async () => {
    const reader = await recipient();
    const id = `long:${randomBytes(6).toString('hex')}`;
    const request = { id, userId: reader.userId, content: { kind: 'text', text } };
    const first = bed.spawn('notifier');
    await first.started();
    await sendToChannel(bed.client, CHANNEL, request, id);
    // Part 0's answer came back (its progress is recorded); the chat's pace (1/s) leaves about a second before the
    // next part, whose answer is withheld; then the process dies.
    await eventually(async () => (await attempt(id))?.message_ids.length === 1, 'part 0 recorded', 30_000);
    bed.emulator.withholdAnswers('sendMessage', 1);
    await reader.tg.waitForMessage(/^Part 1/, 30_000);
    expect(await attempt(id)).to.deep.include({ status: 'sending', attempts: 1 });
    await first.kill('SIGKILL');

    const next = bed.spawn('notifier');
    await next.started();
    await eventually(async () => (await attempt(id))?.status === 'sent', 'the rest sent and recorded', 60_000);
    expect(reader.tg.messages().map((m) => m.text)).to.deep.equal([parts[0], parts[1], parts[1], parts[2]]);
    expect(await attempt(id)).to.deep.include({ status: 'sent', attempts: 2 });
    await next.kill('SIGTERM');
  });
});
