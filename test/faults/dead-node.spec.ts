// One of two ledger processes SIGKILLed while callers keep asking: Moleculer hears nothing from NATS about the dead
// node, so without help calls would wait for its heartbeat to expire. The dead-node detector pings a node whose
// call is late, drops it when it does not answer, and the retry goes to the other replica at once.
import { expect } from 'chai';
import { startFaultBed, type FaultBed } from '../support/fault-bed';
import { eventually } from '../support/system';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a ledger node SIGKILLed while callers use it', function () {
  this.timeout(120_000);
  let bed: FaultBed;

  before(async () => {
    bed = await startFaultBed({ prefix: 'dead-node' });
  });
  after(async () => bed?.stop());

  it('idempotent calls retry on the surviving node without waiting for the heartbeat to expire', async () => {
    await bed.spawn('users').started();
    const [doomed, survivor] = [bed.spawn('ledger'), bed.spawn('ledger')];
    await Promise.all([doomed.started(), survivor.started()]);
    await bed.client.waitForServices(['ledger'], 30_000);
    await eventually(
      async () =>
        bed.client.registry.getServiceList({ onlyAvailable: true }).filter((s) => s.name === 'ledger').length === 2,
      'both ledger nodes known to the caller',
    );

    let stop = false;
    const calls: { startedAt: number; tookMs: number; failed?: string }[] = [];
    const caller = async (action: string) => {
      while (!stop) {
        const startedAt = Date.now();
        try {
          await bed.client.call(action, action === 'ledger.balance' ? { userId: '1' } : {}, {
            retries: 3,
            timeout: 8000,
          });
          calls.push({ startedAt, tookMs: Date.now() - startedAt });
        } catch (error) {
          calls.push({ startedAt, tookMs: Date.now() - startedAt, failed: (error as Error).message });
        }
        await delay(20);
      }
    };
    const callers = [
      ...Array.from({ length: 8 }, () => caller('ledger.balance')),
      ...Array.from({ length: 2 }, () => caller('ledger.check')),
    ];
    await delay(2000);
    await doomed.kill('SIGKILL');
    const killedAt = Date.now();
    await delay(8000);
    stop = true;
    await Promise.all(callers);

    const afterKill = calls.filter((c) => c.startedAt + c.tookMs >= killedAt);
    const failed = calls.filter((c) => c.failed);
    const slowest = Math.max(...afterKill.map((c) => c.tookMs));
    expect(failed, JSON.stringify(failed.slice(0, 3))).to.deep.equal([]);
    expect(afterKill.length).to.be.greaterThan(50);
    // The heartbeat alone would have taken heartbeatTimeout (6 s) or more to drop the node.
    expect(slowest).to.be.below(6000);
    expect(survivor.alive).to.equal(true);
    console.log(
      `      figures: ${afterKill.length} calls finished after the kill, none failed; the slowest took ${slowest} ms ` +
        `(calls in flight at the kill wait for the detector: 1 s late + 1.5 s ping)`,
    );
  });
});
