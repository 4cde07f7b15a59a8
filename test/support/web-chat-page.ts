// Driving the sandbox web chat in a browser as a person would (clicks and typing), for the browser test and the
// screenshots script. Everything waits on what the page shows.
import type { Locator, Page } from 'playwright-core';

const WAIT_MS = 30_000;

export class WebChatPage {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator('#bot-name').filter({ hasText: '@' }).waitFor();
  }

  /** Creates a user from the "new user" dialog (already open when `dialogOpen`, e.g. after a referral link). */
  async newUser(name: string, { language = 'en', admin = false, dialogOpen = false } = {}): Promise<void> {
    if (!dialogOpen) await this.page.click('#new-user');
    await this.page.locator('#new-user-dialog[open]').waitFor();
    await this.page.fill('#new-name', name);
    await this.page.selectOption('#new-language', language);
    if (admin) await this.page.check('#new-admin');
    await this.page.click('#new-user-create');
    await this.page
      .locator('#new-user-dialog[open]')
      .waitFor({ state: 'detached' })
      .catch(() => undefined);
    await this.page.locator('#chat-title', { hasText: name }).waitFor();
  }

  async openChat(name: string): Promise<void> {
    await this.page.locator('#chat-list li', { hasText: name }).first().click();
    await this.page.locator('#chat-title', { hasText: name }).waitFor();
  }

  async send(text: string): Promise<void> {
    await this.page.fill('#text-input', text);
    await this.page.press('#text-input', 'Enter');
    // The page clears the input once the emulator took the message (a poll: the page's CSP forbids eval'd predicates).
    for (let i = 0; (await this.page.inputValue('#text-input')) !== ''; i++) {
      if (i > 300) throw new Error(`the web chat did not send ${JSON.stringify(text)}`);
      await this.page.waitForTimeout(50);
    }
  }

  /** The last bot bubble of the open chat whose text matches. */
  botMessage(text: string | RegExp): Locator {
    return this.page.locator('.msg[data-from="bot"]', { hasText: text }).last();
  }

  async waitForBot(text: string | RegExp, timeout = WAIT_MS): Promise<Locator> {
    const bubble = this.botMessage(text);
    await bubble.waitFor({ timeout });
    return bubble;
  }

  /** Presses the inline button labelled `label` under the last bot bubble matching `text`. */
  async pressInline(text: string | RegExp, label: string | RegExp): Promise<void> {
    await this.botMessage(text).locator('.inline-kb button', { hasText: label }).first().click();
  }
}
