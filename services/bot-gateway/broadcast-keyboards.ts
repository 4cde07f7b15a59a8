// The buttons of the broadcast dialog and of campaign control. callback_data stays within Telegram's 64 bytes
// (broadcast-keyboards.spec.ts). `bc:<action>:<campaign>` is also what the broadcaster puts under its live progress
// message; `bcl:` is the same action pressed under /broadcasts (the list is shown again after it).
import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'telegraf/types';
import type { CampaignProgress } from '../../lib/contracts';
import { LANGUAGES, t, type Language } from '../../lib/i18n';
import { DIALOG_ID } from './keyboards';

/** The audiences offered as buttons; any number of days or language code may also be typed. */
export const AUDIENCE_CHOICES = ['all', 'a7', 'a30', 'dep', ...LANGUAGES.map((l) => `l-${l}` as const)] as const;
export type AudienceChoice = (typeof AUDIENCE_CHOICES)[number];

const CAMPAIGN_ID = /\d{1,19}/;
import type { ControlAction } from './broadcast-backend';

export const BroadcastButtons = {
  /** Cancel under any step of the dialog. */
  cancel: { data: (dialog: string) => `bcd:no:${dialog}`, pattern: new RegExp(`^bcd:no:(${DIALOG_ID.source})$`) },
  /** Every item of an album has arrived. */
  albumDone: {
    data: (dialog: string) => `bcd:done:${dialog}`,
    pattern: new RegExp(`^bcd:done:(${DIALOG_ID.source})$`),
  },
  skipButtons: {
    data: (dialog: string) => `bcd:skip:${dialog}`,
    pattern: new RegExp(`^bcd:skip:(${DIALOG_ID.source})$`),
  },
  audience: {
    data: (dialog: string, choice: AudienceChoice) => `bcd:aud:${dialog}:${choice}`,
    pattern: new RegExp(`^bcd:aud:(${DIALOG_ID.source}):(${AUDIENCE_CHOICES.join('|')})$`),
  },
  send: { data: (dialog: string) => `bcd:send:${dialog}`, pattern: new RegExp(`^bcd:send:(${DIALOG_ID.source})$`) },
  /** Under the broadcaster's progress message. */
  control: {
    data: (action: ControlAction, campaignId: string) => `bc:${action}:${campaignId}`,
    pattern: new RegExp(`^bc:(pause|resume|cancel):(${CAMPAIGN_ID.source})$`),
  },
  /** Under /broadcasts. */
  listControl: {
    data: (action: ControlAction, campaignId: string) => `bcl:${action}:${campaignId}`,
    pattern: new RegExp(`^bcl:(pause|resume|cancel):(${CAMPAIGN_ID.source})$`),
  },
} as const;

const button = (lang: Language, key: string, data: string, params = {}): InlineKeyboardButton => ({
  text: t(lang, key, params),
  callback_data: data,
});

const cancelButton = (lang: Language, dialog: string) =>
  button(lang, 'broadcast.compose.cancel_button', BroadcastButtons.cancel.data(dialog));

export function contentPrompt(lang: Language, dialog: string): InlineKeyboardMarkup {
  return { inline_keyboard: [[cancelButton(lang, dialog)]] };
}

export function albumPrompt(lang: Language, dialog: string): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [button(lang, 'broadcast.compose.album_done_button', BroadcastButtons.albumDone.data(dialog))],
      [cancelButton(lang, dialog)],
    ],
  };
}

export function buttonsPrompt(lang: Language, dialog: string): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [button(lang, 'broadcast.compose.skip_button', BroadcastButtons.skipButtons.data(dialog))],
      [cancelButton(lang, dialog)],
    ],
  };
}

export function audiencePrompt(lang: Language, dialog: string): InlineKeyboardMarkup {
  const choice = (key: string, value: AudienceChoice, params = {}) =>
    button(lang, key, BroadcastButtons.audience.data(dialog, value), params);
  return {
    inline_keyboard: [
      [choice('broadcast.compose.audience_all', 'all')],
      [
        choice('broadcast.compose.audience_active', 'a7', { days: 7 }),
        choice('broadcast.compose.audience_active', 'a30', { days: 30 }),
      ],
      [choice('broadcast.compose.audience_depositors', 'dep')],
      LANGUAGES.map((l) => choice('broadcast.compose.audience_language', `l-${l}`, { language: l })),
      [cancelButton(lang, dialog)],
    ],
  };
}

export function confirmPrompt(lang: Language, dialog: string): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [button(lang, 'broadcast.compose.send_button', BroadcastButtons.send.data(dialog)), cancelButton(lang, dialog)],
    ],
  };
}

/** What may be done to a campaign in its state: pause or resume, and cancel, while it is not over. */
export function controlsOf(status: CampaignProgress['status']): ControlAction[] {
  switch (status) {
    case 'running':
      return ['pause', 'cancel'];
    case 'paused':
      return ['resume', 'cancel'];
    case 'draft':
      return ['cancel'];
    default:
      return [];
  }
}

/** Under /broadcasts: one row per campaign that can still be controlled. */
export function campaignsKeyboard(
  lang: Language,
  campaigns: readonly Pick<CampaignProgress, 'campaignId' | 'status'>[],
): InlineKeyboardMarkup | undefined {
  const rows = campaigns
    .map((c) =>
      controlsOf(c.status).map((action) =>
        button(lang, `broadcast.admin.${action}_button`, BroadcastButtons.listControl.data(action, c.campaignId), {
          id: c.campaignId,
        }),
      ),
    )
    .filter((row) => row.length > 0);
  return rows.length > 0 ? { inline_keyboard: rows } : undefined;
}

/** Every keyboard above with the longest values, for tests. */
export const allBroadcastKeyboards = (lang: Language): InlineKeyboardMarkup[] => {
  const dialog = 'A'.repeat(16);
  const id = '9'.repeat(19);
  return [
    contentPrompt(lang, dialog),
    albumPrompt(lang, dialog),
    buttonsPrompt(lang, dialog),
    audiencePrompt(lang, dialog),
    confirmPrompt(lang, dialog),
    campaignsKeyboard(lang, [
      { campaignId: id, status: 'running' },
      { campaignId: id, status: 'paused' },
      { campaignId: id, status: 'draft' },
    ])!,
  ];
};
