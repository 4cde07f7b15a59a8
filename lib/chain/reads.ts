// The chain reads the services need (heads, blocks, token decimals, USDT transfers), on top of FailoverRpc.
import { AbiCoder, getAddress, id, zeroPadValue } from 'ethers';
import { FailoverRpc } from './rpc';

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
      typeof tag === 'bigint' ? hex(tag) : tag,
      false,
    ]);
    return block ? { number: BigInt(block.number), hash: block.hash } : null;
  }

  async tokenDecimals(token: string): Promise<number> {
    const result = await this.rpc.send<string>('eth_call', [{ to: token, data: '0x313ce567' }, 'latest']);
    return Number(AbiCoder.defaultAbiCoder().decode(['uint8'], result)[0]);
  }

  /** USDT Transfer logs to `to` in [from, toBlock]. */
  async transfersTo(token: string, to: string, fromBlock: bigint, toBlock: bigint): Promise<TransferLog[]> {
    const logs = await this.rpc.send<RawLog[]>('eth_getLogs', [
      {
        address: token,
        fromBlock: hex(fromBlock),
        toBlock: hex(toBlock),
        topics: [TRANSFER_TOPIC, null, zeroPadValue(to, 32)],
      },
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
