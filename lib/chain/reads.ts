// The chain reads and the one write the services need (heads, blocks, balances, token transfers, receipts, raw
// transactions), on top of FailoverRpc.
import { AbiCoder, getAddress, id, zeroPadValue } from 'ethers';
import { FailoverRpc, type SendOptions } from './rpc';

export const TRANSFER_TOPIC = id('Transfer(address,address,uint256)');

export interface BlockRef {
  number: bigint;
  hash: string;
}

export interface TransferLog {
  txHash: string;
  logIndex: number;
  blockNumber: bigint;
  blockHash: string;
  from: string;
  to: string;
  amount: bigint;
}

interface RawLog {
  transactionHash: string;
  logIndex: string;
  blockNumber: string;
  blockHash: string;
  topics: string[];
  data: string;
  removed?: boolean;
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

export interface Receipt {
  txHash: string;
  blockNumber: bigint;
  blockHash: string;
  /** The transaction did what it was asked (status 1); false: it reverted, its nonce is spent all the same. */
  succeeded: boolean;
}

type BlockTag = bigint | 'latest' | 'finalized' | 'pending';
const tagOf = (tag: BlockTag) => (typeof tag === 'bigint' ? hex(tag) : tag);

export class Chain {
  constructor(readonly rpc: FailoverRpc) {}

  async chainId(): Promise<number> {
    return Number(BigInt(await this.rpc.send<string>('eth_chainId', [])));
  }

  async headNumber(): Promise<bigint> {
    return BigInt(await this.rpc.send<string>('eth_blockNumber', []));
  }

  /** `latest`, `finalized` or a number; null when the node does not have it. */
  async block(tag: bigint | 'latest' | 'finalized'): Promise<BlockRef | null> {
    const block = await this.rpc.send<{ number: string; hash: string } | null>('eth_getBlockByNumber', [
      tagOf(tag),
      false,
    ]);
    return block ? { number: BigInt(block.number), hash: block.hash } : null;
  }

  async gasPrice(): Promise<bigint> {
    return BigInt(await this.rpc.send<string>('eth_gasPrice', []));
  }

  /** How many transactions `address` has sent as of the block (its next nonce there). */
  async nonceAt(address: string, tag: BlockTag): Promise<bigint> {
    return BigInt(await this.rpc.send<string>('eth_getTransactionCount', [address, tagOf(tag)]));
  }

  async balance(address: string, tag: BlockTag = 'latest'): Promise<bigint> {
    return BigInt(await this.rpc.send<string>('eth_getBalance', [address, tagOf(tag)]));
  }

  /** The contract's code at `address` ("0x": none). */
  async code(address: string): Promise<string> {
    return this.rpc.send<string>('eth_getCode', [address, 'latest']);
  }

  async tokenBalance(token: string, address: string, tag: BlockTag = 'latest', options?: SendOptions): Promise<bigint> {
    const data = `0x70a08231${zeroPadValue(address, 32).slice(2)}`;
    const result = await this.rpc.send<string>('eth_call', [{ to: token, data }, tagOf(tag)], options);
    return BigInt(AbiCoder.defaultAbiCoder().decode(['uint256'], result)[0] as bigint);
  }

  /** The receipt of a mined transaction on the node's canonical chain, or null. */
  async receipt(txHash: string): Promise<Receipt | null> {
    const r = await this.rpc.send<{
      transactionHash: string;
      blockNumber: string | null;
      blockHash: string | null;
      status: string;
    } | null>('eth_getTransactionReceipt', [txHash]);
    if (!r?.blockNumber || !r.blockHash) return null;
    return {
      txHash: r.transactionHash.toLowerCase(),
      blockNumber: BigInt(r.blockNumber),
      blockHash: r.blockHash.toLowerCase(),
      succeeded: BigInt(r.status) === 1n,
    };
  }

  /** Whether the node knows the transaction at all (in its pool or mined). */
  async knowsTransaction(txHash: string): Promise<boolean> {
    return (await this.rpc.send<unknown>('eth_getTransactionByHash', [txHash])) !== null;
  }

  /** Broadcasts signed bytes; a node's refusal comes back as RpcAnswerError. */
  async sendRawTransaction(raw: string): Promise<string> {
    return (await this.rpc.send<string>('eth_sendRawTransaction', [raw])).toLowerCase();
  }

  async tokenDecimals(token: string, options?: SendOptions): Promise<number> {
    const result = await this.rpc.send<string>('eth_call', [{ to: token, data: '0x313ce567' }, 'latest'], options);
    return Number(AbiCoder.defaultAbiCoder().decode(['uint8'], result)[0]);
  }

  /** USDT Transfer logs to `to` in [from, toBlock]. */
  async transfersTo(token: string, to: string, fromBlock: bigint, toBlock: bigint): Promise<TransferLog[]> {
    return this.transfers(token, [TRANSFER_TOPIC, null, zeroPadValue(to, 32)], fromBlock, toBlock);
  }

  /** USDT Transfer logs from `from` in [fromBlock, toBlock]. */
  async transfersFrom(token: string, from: string, fromBlock: bigint, toBlock: bigint): Promise<TransferLog[]> {
    return this.transfers(token, [TRANSFER_TOPIC, zeroPadValue(from, 32)], fromBlock, toBlock);
  }

  private async transfers(
    token: string,
    topics: (string | null)[],
    fromBlock: bigint,
    toBlock: bigint,
  ): Promise<TransferLog[]> {
    const logs = await this.rpc.send<RawLog[]>('eth_getLogs', [
      { address: token, fromBlock: hex(fromBlock), toBlock: hex(toBlock), topics },
    ]);
    return logs
      .filter((log) => !log.removed && log.topics.length === 3)
      .map((log) => ({
        txHash: log.transactionHash.toLowerCase(),
        logIndex: Number(BigInt(log.logIndex)),
        blockNumber: BigInt(log.blockNumber),
        blockHash: log.blockHash.toLowerCase(),
        from: getAddress(`0x${log.topics[1]!.slice(26)}`),
        to: getAddress(`0x${log.topics[2]!.slice(26)}`),
        amount: log.data === '0x' ? 0n : BigInt(log.data),
      }));
  }
}
