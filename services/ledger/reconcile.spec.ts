import { expect } from 'chai';
import { reconcile, type ReconcileInputs } from './reconcile';

const SYSTEM = '0x00000000000000000000000000000000000000aa';
const HOT = '0x00000000000000000000000000000000000000bb';
const ALICE = '0x00000000000000000000000000000000000000a1';
const tx = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

/** One deposit of 100 by user 1, 40 moved to the hot wallet, a payout of 30 to Alice: books equal to the chain. */
function balanced(): ReconcileInputs {
  return {
    credited: [{ txHash: tx(1), logIndex: 0, userId: '1', amount: '100' }],
    posted: [{ withdrawalId: '7', amount: '30', txHash: tx(3) }],
    liabilities: 70n,
    confirmed: [{ txHash: tx(1), logIndex: 0, blockNumber: '10', from: ALICE, userId: '1', amount: '100' }],
    paid: [{ withdrawalId: '7', amount: '30', destination: ALICE, txHash: tx(3), blockNumber: '12' }],
    wallets: {
      system: SYSTEM,
      hot: HOT,
      toBlock: '20',
      balances: { [SYSTEM]: '60', [HOT]: '10' },
      flows: [
        { txHash: tx(1), logIndex: 0, blockNumber: '10', from: ALICE, to: SYSTEM, amount: '100' },
        { txHash: tx(2), logIndex: 0, blockNumber: '11', from: SYSTEM, to: HOT, amount: '40' },
        { txHash: tx(3), logIndex: 0, blockNumber: '12', from: HOT, to: ALICE, amount: '30' },
      ],
    },
  };
}

const kinds = (inputs: ReconcileInputs) => reconcile(inputs).differences.map((d) => d.kind);

describe('reconcile', () => {
  it('finds nothing when the books, the payouts and the wallets agree', () => {
    const result = reconcile(balanced());
    expect(result.differences).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    expect(result.totals.walletBalances).to.equal('70');
  });

  it('names a credit to another user or of another amount', () => {
    const inputs = balanced();
    inputs.credited[0] = { ...inputs.credited[0]!, amount: '99' };
    expect(kinds(inputs)).to.deep.equal(['deposit_mismatch']);
    expect(reconcile(inputs).differences[0]!.rows[0]).to.contain('books: user 1 amount 99; chain: user 1 amount 100');
  });

  it('names a payout the ledger did not post and a posting the payout service never paid', () => {
    const inputs = balanced();
    inputs.posted = [{ withdrawalId: '8', amount: '30', txHash: tx(3) }];
    expect(kinds(inputs)).to.deep.equal(['payout_not_posted', 'posted_without_payout']);
  });

  it('names an inflow chain-monitor has not confirmed, and an opening balance as a wallet balance difference', () => {
    const inputs = balanced();
    inputs.wallets.flows.push({ txHash: tx(4), logIndex: 1, blockNumber: '13', from: ALICE, to: SYSTEM, amount: '5' });
    inputs.wallets.balances[SYSTEM] = '65';
    expect(kinds(inputs)).to.deep.equal(['inflow_not_confirmed']);
    inputs.wallets.balances[HOT] = '12';
    expect(kinds(inputs)).to.deep.equal(['inflow_not_confirmed', 'wallet_balance']);
    expect(reconcile(inputs).differences[1]!.rows[0]).to.contain('difference 2');
  });

  it('counts outside funding of the hot wallet, and a payout transfer to another address as no payout', () => {
    const inputs = balanced();
    inputs.wallets.flows.push({ txHash: tx(5), logIndex: 0, blockNumber: '14', from: ALICE, to: HOT, amount: '50' });
    inputs.wallets.balances[HOT] = '60';
    expect(kinds(inputs)).to.deep.equal([]);
    expect(reconcile(inputs).totals.hotWalletFunding).to.equal('50');
    inputs.paid[0] = { ...inputs.paid[0]!, destination: SYSTEM.replace('aa', 'cc') };
    expect(kinds(inputs)).to.deep.equal(['outflow_not_a_payout', 'payout_not_on_chain']);
  });

  it('names wallets holding less than users are owed', () => {
    const inputs = balanced();
    inputs.liabilities = 71n;
    expect(kinds(inputs)).to.deep.equal(['insolvent']);
    expect(reconcile(inputs).differences[0]!.rows[0]).to.contain('short by 1');
  });
});
