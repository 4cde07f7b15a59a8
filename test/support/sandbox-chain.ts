// The web chat's local-chain panel on Anvil and the test USDT: every web-chat user gets a sandbox wallet of their
// own, derived from Anvil's mnemonic past its dev accounts (0, 5 and 9 are the deployer, hot wallet and system
// wallet in `npm run dev`; specs use the others) and given BNB for gas by account 0; a deposit mints what the
// wallet lacks and sends the amount to the system wallet, as a user's own wallet would.
import { HDNodeWallet, Mnemonic, formatUnits, parseEther } from 'ethers';
import { ANVIL_DEFAULT_MNEMONIC, DevSigner, type AnvilHandle } from './anvil';
import { ERC20_INTERFACE, USDT_DECIMALS, attachTestUsdt, parseUsdt } from './usdt';
import type { TestSystem } from './system';
import {
  attachWebChat,
  webChatUrl,
  type SandboxChain,
  type SandboxTransaction,
  type SandboxWallet,
} from './telegram-emulator/web/server';

export interface SandboxChainOptions {
  anvil: AnvilHandle;
  usdtAddress: string;
  systemWallet: string;
  /** The first mnemonic index handed to a web-chat user. Default: the one after Anvil's dev accounts. */
  firstIndex?: number;
  /** BNB each new sandbox wallet gets for gas. Default 10. */
  gasBnb?: string;
}

/** Whole tokens as the panel shows them: "150", "12.5". */
const tokens = (value: bigint, decimals = USDT_DECIMALS): string => formatUnits(value, decimals).replace(/\.0$/, '');

export function sandboxChain(options: SandboxChainOptions): SandboxChain {
  const { anvil, usdtAddress, systemWallet } = options;
  const mnemonic = Mnemonic.fromPhrase(anvil.options.mnemonic ?? ANVIL_DEFAULT_MNEMONIC);
  let nextIndex = options.firstIndex ?? anvil.accounts.length;
  const signers = new Map<number, Promise<DevSigner>>();
  const usdt = attachTestUsdt(usdtAddress, anvil.provider);

  const signerOf = (userId: number): Promise<DevSigner> => {
    let signer = signers.get(userId);
    if (!signer) {
      const index = nextIndex++;
      signer = (async () => {
        const key = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${index}`).privateKey;
        const dev = new DevSigner(key, anvil.provider);
        const gas = await anvil
          .wallet(0)
          .sendTransaction({ to: dev.address, value: parseEther(options.gasBnb ?? '10') });
        await gas.wait();
        return dev;
      })();
      signers.set(userId, signer);
      signer.catch(() => signers.delete(userId)); // a failed funding is retried on the next call
    }
    return signer;
  };

  const wallet = async (userId: number): Promise<SandboxWallet> => {
    const { address } = await signerOf(userId);
    const [usdtBalance, bnb] = await Promise.all([usdt.balanceOf(address), anvil.provider.getBalance(address)]);
    return { address, usdt: tokens(usdtBalance), bnb: Number(formatUnits(bnb, 18)).toFixed(4) };
  };

  return {
    async info() {
      return {
        chainId: anvil.chainId,
        head: await anvil.blockNumber(),
        usdtContract: usdtAddress,
        systemWallet,
      };
    },
    wallet,
    async deposit(userId, amount) {
      const signer = await signerOf(userId);
      const value = parseUsdt(amount);
      const held = await usdt.balanceOf(signer.address);
      if (held < value)
        await (await attachTestUsdt(usdtAddress, anvil.wallet(0)).mint(signer.address, value - held)).wait();
      const tx = await attachTestUsdt(usdtAddress, signer).transfer(systemWallet, value);
      await tx.wait();
      return { hash: tx.hash };
    },
    mine: (blocks) => anvil.mine(blocks),
    async transaction(hash) {
      const [tx, receipt, head] = await Promise.all([
        anvil.provider.getTransaction(hash),
        anvil.provider.getTransactionReceipt(hash),
        anvil.blockNumber(),
      ]);
      if (!tx) return undefined;
      let transfer: SandboxTransaction['usdt'] = null;
      for (const log of receipt?.logs ?? []) {
        if (log.address.toLowerCase() !== usdtAddress.toLowerCase()) continue;
        const parsed = ERC20_INTERFACE.parseLog(log);
        if (parsed?.name !== 'Transfer') continue;
        transfer = {
          from: parsed.args[0] as string,
          to: parsed.args[1] as string,
          amount: tokens(parsed.args[2] as bigint),
        };
        break;
      }
      const block = receipt?.blockNumber ?? null;
      return {
        hash: tx.hash,
        block,
        from: tx.from,
        to: tx.to,
        usdt: transfer,
        status: !receipt ? 'pending' : receipt.status === 1 ? 'success' : 'reverted',
        confirmations: block === null ? 0 : head - block + 1,
      };
    },
  };
}

/**
 * Serves the web chat with its local-chain panel from a started system's emulator; returns the page's URL.
 * `adminIds`: the system's ADMIN_TELEGRAM_IDS, so the page can create the sandbox admin.
 */
export function attachSandboxWebChat(
  system: Pick<TestSystem, 'anvil' | 'usdtAddress' | 'systemWallet' | 'emulator'>,
  adminIds: readonly number[] = [],
): string {
  const chain = sandboxChain({
    anvil: system.anvil,
    usdtAddress: system.usdtAddress,
    systemWallet: system.systemWallet,
  });
  attachWebChat(system.emulator, { chain, adminIds });
  return webChatUrl(system.emulator);
}
