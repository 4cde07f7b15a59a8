// Test-only USDT (BEP-20 stand-in): compiles test/support/contracts/TestUSDT.sol with solc-js (cached by
// source hash under node_modules/.cache/sigmatrade/) and deploys it with ethers v6.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BaseContract,
  ContractFactory,
  Interface,
  id,
  parseUnits,
  type AddressLike,
  type BaseContractMethod,
  type BigNumberish,
  type ContractRunner,
  type ContractTransactionResponse,
  type InterfaceAbi,
  type Provider,
  type Signer,
} from 'ethers';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (this file lives in <root>/test/support). */
export const REPO_ROOT = path.resolve(HERE, '..', '..');
export const TEST_USDT_SOURCE_PATH = path.join(HERE, 'contracts', 'TestUSDT.sol');
export const ARTIFACT_CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'sigmatrade');

/** BSC-USD (Binance-Peg USDT) has 18 decimals, unlike Ethereum USDT's 6. */
export const USDT_DECIMALS = 18;
/** keccak256("Transfer(address,address,uint256)"): topic0 of every ERC-20 Transfer log. */
export const TRANSFER_TOPIC = id('Transfer(address,address,uint256)');
/** keccak256("Approval(address,address,uint256)"). */
export const APPROVAL_TOPIC = id('Approval(address,address,uint256)');

/** The ERC-20 surface the services use, as a human-readable ABI (works for any BEP-20, not only TestUSDT). */
export const ERC20_ABI = [
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address owner) view returns (uint256)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
  'function transferFrom(address from, address to, uint256 value) returns (bool)',
] as const;
export const ERC20_INTERFACE = new Interface(ERC20_ABI);

/** "12.5" → 12.5 USDT in base units (18 decimals). */
export function parseUsdt(amount: string): bigint {
  return parseUnits(amount, USDT_DECIMALS);
}

/** Left-pads an address into a 32-byte log topic (for `getLogs` topic filters on indexed `from`/`to`). */
export function addressTopic(address: string): string {
  return '0x' + address.toLowerCase().replace(/^0x/, '').padStart(64, '0');
}

/** Filter for Transfer logs of `token`, optionally narrowed by indexed `from` and/or `to`. */
export function transferFilter(token: string, opts: { from?: string; to?: string } = {}) {
  return {
    address: token,
    topics: [
      TRANSFER_TOPIC,
      opts.from ? addressTopic(opts.from) : null,
      opts.to ? addressTopic(opts.to) : null,
    ] as Array<string | null>,
  };
}

export interface OnChainTransfer {
  txHash: string;
  /** Lower case. */
  to: string;
  amount: bigint;
  blockNumber: number;
}

/** Every Transfer of `token` sent by `from` on the canonical chain, oldest first. */
export async function transfersFrom(provider: Provider, token: string, from: string): Promise<OnChainTransfer[]> {
  const logs = await provider.getLogs({ ...transferFilter(token, { from }), fromBlock: 0, toBlock: 'latest' });
  return logs.map((log) => ({
    txHash: log.transactionHash.toLowerCase(),
    to: `0x${log.topics[2]!.slice(26)}`.toLowerCase(),
    amount: BigInt(log.data),
    blockNumber: log.blockNumber,
  }));
}

export interface TestUsdtArtifact {
  contractName: 'TestUSDT';
  sourceSha256: string;
  solcVersion: string;
  abi: InterfaceAbi;
  /** Creation bytecode, 0x-prefixed. */
  bytecode: string;
}

type Tx = ContractTransactionResponse;
/** Typed view of a deployed TestUSDT (an ethers `Contract` underneath). */
export interface TestUsdtContract extends BaseContract {
  name: BaseContractMethod<[], string, string>;
  symbol: BaseContractMethod<[], string, string>;
  decimals: BaseContractMethod<[], bigint, bigint>;
  totalSupply: BaseContractMethod<[], bigint, bigint>;
  owner: BaseContractMethod<[], string, string>;
  balanceOf: BaseContractMethod<[owner: AddressLike], bigint, bigint>;
  allowance: BaseContractMethod<[owner: AddressLike, spender: AddressLike], bigint, bigint>;
  mint: BaseContractMethod<[to: AddressLike, amount: BigNumberish], boolean, Tx>;
  transfer: BaseContractMethod<[to: AddressLike, value: BigNumberish], boolean, Tx>;
  approve: BaseContractMethod<[spender: AddressLike, value: BigNumberish], boolean, Tx>;
  transferFrom: BaseContractMethod<[from: AddressLike, to: AddressLike, value: BigNumberish], boolean, Tx>;
  connect(runner: ContractRunner | null): TestUsdtContract;
}

const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  // Cancun: supported by anvil's default hardfork and by BSC since Tycho/Haber.
  evmVersion: 'cancun',
  outputSelection: { '*': { TestUSDT: ['abi', 'evm.bytecode.object'] } },
} as const;

let memo: TestUsdtArtifact | undefined;

function isArtifact(value: unknown, sha: string): value is TestUsdtArtifact {
  const v = value as Partial<TestUsdtArtifact> | null;
  return (
    !!v &&
    v.sourceSha256 === sha &&
    Array.isArray(v.abi) &&
    typeof v.bytecode === 'string' &&
    /^0x[0-9a-f]{2,}$/i.test(v.bytecode)
  );
}

interface SolcOutput {
  errors?: Array<{ severity: 'error' | 'warning' | 'info'; formattedMessage?: string; message: string }>;
  contracts?: Record<string, Record<string, { abi: InterfaceAbi; evm: { bytecode: { object: string } } }>>;
}

/**
 * Compiles TestUSDT.sol with the npm solc-js compiler (never a downloaded one). The artifact is cached in
 * `node_modules/.cache/sigmatrade/TestUSDT.<sha256 of source>.json`, so later runs (and processes) skip solc,
 * whose wasm takes a few seconds to load. Memoised per process as well.
 */
export function compileTestUsdt(opts: { force?: boolean } = {}): TestUsdtArtifact {
  const source = readFileSync(TEST_USDT_SOURCE_PATH, 'utf8');
  const sha = createHash('sha256').update(source).digest('hex');
  if (!opts.force && memo?.sourceSha256 === sha) return memo;

  const cacheFile = path.join(ARTIFACT_CACHE_DIR, `TestUSDT.${sha}.json`);
  if (!opts.force && existsSync(cacheFile)) {
    try {
      const cached: unknown = JSON.parse(readFileSync(cacheFile, 'utf8'));
      if (isArtifact(cached, sha)) return (memo = cached);
    } catch {
      // corrupt cache entry: recompile and overwrite it
    }
  }

  // solc is CommonJS and heavy (~10 MB of wasm glue): load it only on a cache miss.
  const require = createRequire(import.meta.url);
  const solc = require('solc') as { compile(input: string): string; version(): string };
  const input = {
    language: 'Solidity',
    sources: { 'TestUSDT.sol': { content: source } },
    settings: SOLC_SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(
      `TestUSDT.sol failed to compile:\n${errors.map((e) => e.formattedMessage ?? e.message).join('\n')}`,
    );
  }
  const compiled = output.contracts?.['TestUSDT.sol']?.['TestUSDT'];
  if (!compiled?.evm.bytecode.object) throw new Error('solc returned no bytecode for TestUSDT');

  const artifact: TestUsdtArtifact = {
    contractName: 'TestUSDT',
    sourceSha256: sha,
    solcVersion: solc.version(),
    abi: compiled.abi,
    bytecode: '0x' + compiled.evm.bytecode.object,
  };
  // Write-then-rename so a concurrent test process never reads a half-written file.
  mkdirSync(ARTIFACT_CACHE_DIR, { recursive: true });
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(artifact, null, 2));
  renameSync(tmp, cacheFile);
  return (memo = artifact);
}

export interface DeployedTestUsdt {
  contract: TestUsdtContract;
  address: string;
  deployTxHash: string;
  artifact: TestUsdtArtifact;
}

/**
 * Deploys TestUSDT from `signer` (which becomes the only account allowed to `mint`) and waits for the
 * deployment to be mined. With automine off, mine a block yourself or this never resolves.
 */
export async function deployTestUsdt(signer: Signer): Promise<DeployedTestUsdt> {
  const artifact = compileTestUsdt();
  const factory = new ContractFactory(artifact.abi, artifact.bytecode, signer);
  const deployed = await factory.deploy();
  await deployed.waitForDeployment();
  const address = await deployed.getAddress();
  const deployTxHash = deployed.deploymentTransaction()?.hash ?? '';
  return { contract: deployed as unknown as TestUsdtContract, address, deployTxHash, artifact };
}

/** Binds an already-deployed TestUSDT (or any ERC-20 at `address`) to `runner`. */
export function attachTestUsdt(address: string, runner: ContractRunner | null): TestUsdtContract {
  const artifact = compileTestUsdt();
  return new BaseContract(address, artifact.abi, runner) as unknown as TestUsdtContract;
}

type Holder = string | { address: string };

/**
 * Mints `amountEach` to every holder from the contract's runner (must be the deployer) and waits for all
 * receipts. Needs automine (or someone mining) to resolve.
 */
export async function mintUsdt(
  usdt: TestUsdtContract,
  holders: ReadonlyArray<Holder>,
  amountEach: bigint,
): Promise<void> {
  const sent = [];
  for (const holder of holders) {
    sent.push(await usdt.mint(typeof holder === 'string' ? holder : holder.address, amountEach));
  }
  const receipts = await Promise.all(sent.map((tx) => tx.wait()));
  receipts.forEach((r, i) => {
    if (r?.status !== 1) throw new Error(`mint to holder #${i} failed`);
  });
}

/** Deploys a TestUSDT from `owner` and mints `amountEach` (default 1 000 000 USDT) to every holder. */
export async function fundUsdt(
  owner: Signer,
  holders: ReadonlyArray<Holder>,
  amountEach: bigint = parseUsdt('1000000'),
): Promise<DeployedTestUsdt> {
  const deployed = await deployTestUsdt(owner);
  await mintUsdt(deployed.contract, holders, amountEach);
  return deployed;
}
