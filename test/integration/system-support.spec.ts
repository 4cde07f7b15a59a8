// The whole-system test support keeps up with the schema: a settled system has drained every outbox there is.
import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SYSTEM_OUTBOXES } from '../support/quiesce';

describe('system test support', () => {
  it('drains every outbox table the migrations create when it waits for quiet', async () => {
    const root = 'prisma/migrations';
    const outboxes = new Set<string>();
    for (const dir of await readdir(root, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      const sql = await readFile(join(root, dir.name, 'migration.sql'), 'utf8');
      for (const match of sql.matchAll(/CREATE TABLE "(\w+_outbox)"/g)) outboxes.add(match[1]!);
    }
    expect(outboxes.size).to.be.above(0);
    expect([...SYSTEM_OUTBOXES].sort()).to.deep.equal([...outboxes].sort());
  });
});
