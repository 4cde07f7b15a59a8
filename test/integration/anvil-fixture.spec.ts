import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Wallet, getAddress, type Log } from 'ethers';
import { startAnvil, type AnvilHandle } from '../support/anvil';
import { buildTransferHistory } from '../support/chain-history';
import {
  ARTIFACT_CACHE_DIR,
  ERC20_INTERFACE,
  REPO_ROOT,
  TRANSFER_TOPIC,
  USDT_DECIMALS,
  compileTestUsdt,
  deployTestUsdt,
  fundUsdt,
  parseUsdt,
  transferFilter,
  type TestUsdtContract,
} from '../support/usdt';

function decodeTransfer(log: Log): { from: string; to: string; value: bigint } {
  const parsed = ERC20_INTERFACE.parseLog(log);
  if (!parsed) throw new Error('not a Transfer log');
  return { from: parsed.args[0] as string, to: parsed.args[1] as string, value: parsed.args[2] as bigint };
}

function isAlive(pid: number): boolean {
  // A killed process whose new parent has not reaped it yet is a zombie: dead, though kill(pid, 0) works.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    if (process.platform === 'linux') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !isAlive(pid);
}

describe('anvil fixture (test/support)', function () {
  this.timeout(60_000);

  let anvil: AnvilHandle;
  let usdt: TestUsdtContract;
  let usdtAddress: string;
  const deposit = getAddress('0x' + 'd3'.repeat(20)); // a deposit address nobody holds a key for

  before(async () => {
    anvil = await startAnvil();
    ({ contract: usdt, address: usdtAddress } = await deployTestUsdt(anvil.wallet(0)));
  });

  after(async () => {
    await anvil?.stop();
  });

  it('runs a BSC-like dev chain on 127.0.0.1 with the default dev accounts', async () => {
    expect(anvil.rpcUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(anvil.chainId).to.equal(56);
    expect((await anvil.provider.getNetwork()).chainId).to.equal(56n);
    expect(await anvil.send('eth_chainId')).to.equal('0x38');
    expect(anvil.accounts).to.have.length(10);
    expect(anvil.accounts[0]!.address).to.equal('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(anvil.wallet(0).address).to.equal(anvil.accounts[0]!.address);
    expect(anvil.wallet(0)).to.equal(anvil.wallet(0)); // one signer (one nonce counter) per account
    expect((await anvil.provider.getBalance(anvil.accounts[9]!.address)) > 0n).to.equal(true);
  });

  it('compiles TestUSDT with solc-js once and caches the artifact by source hash', () => {
    const artifact = compileTestUsdt();
    expect(artifact.bytecode).to.match(/^0x[0-9a-f]+$/);
    expect(artifact.solcVersion).to.match(/^0\.8\./);
    expect(existsSync(path.join(ARTIFACT_CACHE_DIR, `TestUSDT.${artifact.sourceSha256}.json`))).to.equal(true);
    expect(ARTIFACT_CACHE_DIR.startsWith(path.join(REPO_ROOT, 'node_modules'))).to.equal(true);
    expect(compileTestUsdt()).to.equal(artifact); // memoised
  });

  it('deploys an 18-decimal "Tether USD" whose mint only the deployer may call', async () => {
    expect(await usdt.decimals()).to.equal(BigInt(USDT_DECIMALS));
    expect(await usdt.name()).to.equal('Tether USD');
    expect(await usdt.symbol()).to.equal('USDT');
    expect(await usdt.owner()).to.equal(anvil.accounts[0]!.address);

    await (await usdt.mint(anvil.accounts[1]!.address, parseUsdt('1000'))).wait();
    expect(await usdt.balanceOf(anvil.accounts[1]!.address)).to.equal(parseUsdt('1000'));
    expect(await usdt.totalSupply()).to.equal(parseUsdt('1000'));

    const stranger = usdt.connect(anvil.wallet(1));
    let reverted = false;
    try {
      await stranger.mint(anvil.accounts[1]!.address, 1n);
    } catch (err) {
      reverted = true;
      expect(String(err)).to.match(/NotOwner|revert/i);
    }
    expect(reverted, 'mint by a non-owner must revert').to.equal(true);
    // The failed send (gas estimation revert) must not leave a nonce gap behind.
    const ok = await (await stranger.transfer(anvil.accounts[2]!.address, parseUsdt('1'))).wait();
    expect(ok?.status).to.equal(1);
  });

  it('fundUsdt deploys another token and funds several holders in one go', async () => {
    const holders = [anvil.accounts[6]!, anvil.accounts[7]!.address, anvil.accounts[8]!];
    const { contract, address } = await fundUsdt(anvil.wallet(0), holders, parseUsdt('250'));
    expect(address).to.not.equal(usdtAddress);
    for (const h of holders)
      expect(await contract.balanceOf(typeof h === 'string' ? h : h.address)).to.equal(parseUsdt('250'));
    expect(await contract.totalSupply()).to.equal(parseUsdt('750'));
  });

  it('enforces balances and allowances', async () => {
    const holder = usdt.connect(anvil.wallet(1));
    const spender = usdt.connect(anvil.wallet(3));
    const a1 = anvil.accounts[1]!.address;
    const a3 = anvil.accounts[3]!.address;

    let err: unknown;
    await holder.transfer.staticCall(deposit, parseUsdt('1000000')).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(/InsufficientBalance|revert/i);

    err = undefined;
    await spender.transferFrom.staticCall(a1, deposit, 1n).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(/InsufficientAllowance|revert/i);

    await (await holder.approve(a3, parseUsdt('5'))).wait();
    expect(await usdt.allowance(a1, a3)).to.equal(parseUsdt('5'));
    await (await spender.transferFrom(a1, a3, parseUsdt('2'))).wait();
    expect(await usdt.allowance(a1, a3)).to.equal(parseUsdt('3'));
    expect(await usdt.balanceOf(a3)).to.equal(parseUsdt('2'));

    err = undefined;
    await holder.transfer.staticCall('0x0000000000000000000000000000000000000000', 1n).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(/ZeroAddress|revert/i);
  });

  it('emits a Transfer log that getLogs finds with a topics filter', async () => {
    const receipt = await (await usdt.connect(anvil.wallet(1)).transfer(deposit, parseUsdt('12.5'))).wait();
    expect(receipt?.status).to.equal(1);
    const block = receipt!.blockNumber;

    const logs = await anvil.provider.getLogs({
      ...transferFilter(usdtAddress, { to: deposit }),
      fromBlock: 0,
      toBlock: 'latest',
    });
    expect(logs).to.have.length(1);
    const log = logs[0]!;
    expect(log.topics[0]).to.equal(TRANSFER_TOPIC);
    expect(log.blockNumber).to.equal(block);
    expect(log.transactionHash).to.equal(receipt!.hash);
    expect(decodeTransfer(log)).to.deep.equal({
      from: anvil.accounts[1]!.address,
      to: deposit,
      value: parseUsdt('12.5'),
    });

    // Narrowing by sender works too; another sender matches nothing.
    const bySender = await anvil.provider.getLogs({
      ...transferFilter(usdtAddress, { from: anvil.accounts[1]!.address, to: deposit }),
      fromBlock: block,
      toBlock: block,
    });
    expect(bySender).to.have.length(1);
    const byOther = await anvil.provider.getLogs({
      ...transferFilter(usdtAddress, { from: anvil.accounts[2]!.address, to: deposit }),
      fromBlock: block,
      toBlock: block,
    });
    expect(byOther).to.have.length(0);
  });

  it('reports finalized two blocks (and safe one block) behind latest', async () => {
    const head = await anvil.mine(5);
    const [latest, safe, finalized] = await Promise.all([
      anvil.provider.getBlock('latest'),
      anvil.provider.getBlock('safe'),
      anvil.provider.getBlock('finalized'),
    ]);
    expect(latest!.number).to.equal(head);
    expect(safe!.number).to.equal(head - 1);
    expect(finalized!.number).to.equal(head - 2);
    // getBlockNumber is not cached by the provider (cacheTimeout -1): it sees the next block at once.
    expect(await anvil.mine()).to.equal(head + 1);
    expect(await anvil.provider.getBlockNumber()).to.equal(head + 1);
    expect((await anvil.provider.getBlock('finalized'))!.number).to.equal(head - 1);
  });

  it('anvil_reorg of depth 2 drops a transfer: its log, receipt and block hash are gone', async () => {
    const sender = usdt.connect(anvil.wallet(2));
    const before = await usdt.balanceOf(deposit);
    const receipt = await (await sender.transfer(deposit, parseUsdt('0.5'))).wait();
    const h = receipt!.blockNumber;
    const oldBlock = await anvil.provider.getBlock(h);
    const head = await anvil.mine(); // the transfer is now one block below the head
    expect(head).to.equal(h + 1);
    expect(await usdt.balanceOf(deposit)).to.equal(before + parseUsdt('0.5'));
    expect(
      await anvil.provider.getLogs({ ...transferFilter(usdtAddress, { to: deposit }), fromBlock: h, toBlock: h }),
    ).to.have.length(1);

    const result = await anvil.reorg(2);
    expect(result.commonAncestor).to.equal(h - 1);
    expect(result.head).to.equal(head); // same height, different blocks
    expect(result.oldHashes[0]).to.equal(oldBlock!.hash);
    expect(result.newHashes[0]).to.not.equal(oldBlock!.hash);

    const replaced = await anvil.provider.getBlock(h);
    expect(replaced!.hash).to.not.equal(oldBlock!.hash);
    expect(replaced!.parentHash).to.equal(oldBlock!.parentHash); // forked right above the common ancestor
    expect(replaced!.transactions).to.have.length(0);
    expect(await anvil.provider.getBlock(oldBlock!.hash!)).to.equal(null);
    expect(
      await anvil.provider.getLogs({
        ...transferFilter(usdtAddress, { to: deposit }),
        fromBlock: h,
        toBlock: 'latest',
      }),
    ).to.have.length(0);
    expect(await anvil.provider.getLogs({ blockHash: replaced!.hash!, topics: [TRANSFER_TOPIC] })).to.have.length(0);
    expect(await anvil.provider.getTransactionReceipt(receipt!.hash)).to.equal(null);
    expect(await anvil.provider.getTransaction(receipt!.hash)).to.equal(null); // not put back in the pool either
    expect(await usdt.balanceOf(deposit)).to.equal(before);
    expect((await anvil.provider.getBlock('finalized'))!.number).to.equal(h - 1);

    // Signer nonces were reset by reorg(): the same account can send again straight away.
    const again = await (await sender.transfer(deposit, parseUsdt('0.25'))).wait();
    expect(again?.status).to.equal(1);
  });

  it('anvil_reorg can put a transaction into a chosen block of the new branch', async () => {
    const a4 = anvil.accounts[4]!.address;
    const minted = await (await usdt.mint(a4, parseUsdt('10'))).wait();
    await anvil.mine(3); // the reorg below must not reach the mint's block

    const data = ERC20_INTERFACE.encodeFunctionData('transfer', [deposit, parseUsdt('7')]);
    // JSON request (anvil signs for its dev account, nonce taken from the common ancestor), offset 1 of 3.
    const result = await anvil.reorg(3, [[{ from: a4, to: usdtAddress, data, gas: 100_000n }, 1]]);
    expect(result.commonAncestor).to.equal(minted!.blockNumber);
    const target = result.commonAncestor + 2;
    const logs = await anvil.provider.getLogs({
      ...transferFilter(usdtAddress, { to: deposit }),
      fromBlock: result.commonAncestor + 1,
      toBlock: 'latest',
    });
    expect(logs).to.have.length(1);
    expect(logs[0]!.blockNumber).to.equal(target);
    expect(logs[0]!.blockHash).to.equal(result.newHashes[1]);
    expect(decodeTransfer(logs[0]!)).to.deep.equal({ from: a4, to: deposit, value: parseUsdt('7') });
    const receipt = await anvil.provider.getTransactionReceipt(logs[0]!.transactionHash);
    expect(receipt?.status).to.equal(1);
    expect(receipt?.blockNumber).to.equal(target);
  });

  it('snapshot/revert restores state and height', async () => {
    const id = await anvil.snapshot();
    const height = await anvil.blockNumber();
    const balance = await usdt.balanceOf(deposit);
    await (await usdt.connect(anvil.wallet(1)).transfer(deposit, parseUsdt('3'))).wait();
    await anvil.mine(3);
    expect(await usdt.balanceOf(deposit)).to.equal(balance + parseUsdt('3'));

    expect(await anvil.revert(id)).to.equal(true);
    expect(await anvil.blockNumber()).to.equal(height);
    expect(await usdt.balanceOf(deposit)).to.equal(balance);
    expect(await anvil.revert(id)).to.equal(false); // a snapshot is consumed by reverting to it
    // Nonces were reset: sending again works.
    expect((await (await usdt.connect(anvil.wallet(1)).transfer(deposit, 1n)).wait())?.status).to.equal(1);
  });

  it('setAutomine(false) keeps transactions pending until mine()', async () => {
    await anvil.setAutomine(false);
    try {
      const h = await anvil.blockNumber();
      const tx = await usdt.connect(anvil.wallet(5)).mint.populateTransaction(deposit, 1n); // not the owner: only populate
      expect(tx.to).to.equal(usdtAddress);
      const sent = await anvil.wallet(5).sendTransaction({ to: anvil.accounts[6]!.address, value: 1n });
      const sent2 = await anvil.wallet(5).sendTransaction({ to: anvil.accounts[6]!.address, value: 2n });
      expect(sent2.nonce).to.equal(sent.nonce + 1);
      expect(await anvil.provider.getTransactionReceipt(sent.hash)).to.equal(null);
      expect(await anvil.blockNumber()).to.equal(h);
      await anvil.mine();
      expect((await anvil.provider.getTransactionReceipt(sent2.hash))?.blockNumber).to.equal(h + 1);
    } finally {
      await anvil.setAutomine(true);
    }
  });

  it('buildTransferHistory creates exactly N deposits among noise (both packing modes)', async () => {
    const { address: decoy } = await deployTestUsdt(anvil.wallet(0));
    const outsider = Wallet.createRandom(); // not an anvil account: signed locally and funded by the builder
    const senders = [anvil.accounts[1]!, anvil.accounts[2]!, anvil.accounts[3]!, { privateKey: outsider.privateKey }];
    const senderSet = new Set([
      ...senders.slice(0, 3).map((a) => (a as { address: string }).address),
      outsider.address,
    ]);
    const nativeBefore = await anvil.provider.getBalance(deposit);

    for (const packing of ['reorg', 'mine'] as const) {
      const N = packing === 'reorg' ? 200 : 60;
      const history = await buildTransferHistory({
        anvil,
        usdt: usdtAddress,
        to: deposit,
        senders,
        transfers: N,
        noiseRatio: 1.5,
        blocks: 3 * N,
        decoyToken: decoy,
        packing,
        seed: 7,
      });
      expect(history.toBlock - history.fromBlock + 1).to.equal(3 * N);
      expect(await anvil.blockNumber()).to.equal(history.toBlock);
      expect(history.deposits).to.have.length(N);
      expect(history.transactions).to.equal(N + Math.round(1.5 * N));

      const logs = await anvil.provider.getLogs({
        ...transferFilter(usdtAddress, { to: deposit }),
        fromBlock: history.fromBlock,
        toBlock: history.toBlock,
      });
      expect(logs).to.have.length(N);
      const decoded = logs.map(decodeTransfer);
      expect(decoded.reduce((s, d) => s + d.value, 0n)).to.equal(history.totalAmount);
      for (const d of decoded) expect(senderSet.has(d.from), d.from).to.equal(true);
      expect(logs.map((l) => l.transactionHash)).to.deep.equal(history.deposits.map((d) => d.txHash));
      expect(new Set(logs.map((l) => l.blockNumber)).size, 'deposits spread over many blocks').to.be.greaterThan(N / 4);

      // The noise is there: all USDT transfers outnumber the deposits, the decoy token also "pays" the
      // deposit address, and plain BNB reaches it too. None of it matches the USDT-to-deposit filter.
      const allUsdt = await anvil.provider.getLogs({
        address: usdtAddress,
        topics: [TRANSFER_TOPIC],
        fromBlock: history.fromBlock,
        toBlock: history.toBlock,
      });
      expect(allUsdt.length).to.be.greaterThan(N);
      const decoyLogs = await anvil.provider.getLogs({
        ...transferFilter(decoy, { to: deposit }),
        fromBlock: history.fromBlock,
        toBlock: history.toBlock,
      });
      expect(decoyLogs.length).to.equal(history.noise.decoyTransfers).and.to.be.greaterThan(0);
      expect(history.noise.nativeToDeposit).to.be.greaterThan(0);
    }
    expect((await anvil.provider.getBalance(deposit)) > nativeBefore, 'BNB noise reached the deposit address').to.equal(
      true,
    );
    expect(await anvil.getAutomine()).to.equal(true); // restored
    const status = await anvil.send<{ pending: string; queued: string }>('txpool_status');
    expect(Number(status.pending) + Number(status.queued)).to.equal(0);
    // Signer nonces were reset afterwards: dev signers keep working.
    expect((await (await usdt.connect(anvil.wallet(1)).transfer(deposit, 1n)).wait())?.status).to.equal(1);
  });

  describe('process cleanup', () => {
    type Mode = 'exit' | 'hang' | 'own-handler';
    const script = (mode: Mode): string => `
      import { startAnvil } from ${JSON.stringify(path.join(REPO_ROOT, 'test/support/anvil.ts'))};
      const a = await startAnvil();
      ${
        mode === 'own-handler'
          ? `process.on('SIGINT', async () => {
               console.log('BLOCK ' + (await a.blockNumber()));
               await a.stop();
               process.exit(0);
             });`
          : ''
      }
      console.log('PID ' + a.pid);
      ${mode === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
    `;
    const runChild = (mode: Mode): Promise<{ anvilPid: number; child: ReturnType<typeof spawn> }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(mode)], {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /PID (\d+)/.exec(out);
          if (m) resolve({ anvilPid: Number(m[1]), child });
        });
        child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => {
          if (!/PID \d+/.test(out)) reject(new Error(`child exited (${code}) before starting anvil: ${err}`));
        });
      });

    it('kills anvil when the test process exits without stop()', async () => {
      const { anvilPid } = await runChild('exit');
      expect(await waitUntilDead(anvilPid, 5_000)).to.equal(true);
    });

    it('kills anvil and ends the process on SIGINT when nothing else handles it', async () => {
      const { anvilPid, child } = await runChild('hang');
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );
      child.kill('SIGINT');
      expect(await exited).to.equal('SIGINT');
      expect(await waitUntilDead(anvilPid, 5_000)).to.equal(true);
    });

    it("leaves anvil running for the process's own SIGINT handler (scripts/dev.ts stops its services first)", async () => {
      const { anvilPid, child } = await runChild('own-handler');
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).to.equal(0);
      // The handler still read the chain after the signal, then stopped anvil itself.
      expect(out).to.match(/BLOCK \d+/);
      expect(await waitUntilDead(anvilPid, 5_000)).to.equal(true);
    });

    it('kills anvil when the test process is SIGKILLed (Linux, via setpriv --pdeathsig)', async function () {
      if (process.platform !== 'linux' || !['/usr/bin/setpriv', '/bin/setpriv'].some((p) => existsSync(p))) this.skip();
      const { anvilPid, child } = await runChild('hang');
      expect(isAlive(anvilPid)).to.equal(true);
      child.kill('SIGKILL');
      expect(await waitUntilDead(anvilPid, 5_000)).to.equal(true);
    });
  });
});
