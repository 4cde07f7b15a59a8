// /broadcast (admins only): the content (a text as the admin formatted it, one media item with its caption, or an
// album) → optional URL buttons → the audience → the broadcaster's draft and preview → "Send to N users?" → start.
// The dialog lives in the session like the withdrawal dialog; every button carries the dialog's id, so one of an
// older dialog is answered as stale. Campaign control: the bc:<action>:<id> buttons of the broadcaster's progress
// message, and /broadcasts with the same actions.
import type { InlineKeyboardMarkup, Message } from 'telegraf/types';
import { CampaignStatus, type Audience } from '../../../lib/contracts';
import { t, trustedHtml } from '../../../lib/i18n';
import type { AlbumStore } from '../broadcast-albums';
import type { Broadcasts, ControlAction } from '../broadcast-backend';
import { albumOf, contentOf, mediaPartOf, parseAudience, parseButtons, type Refusal } from '../broadcast-compose';
import {
  albumPrompt,
  audiencePrompt,
  buttonsPrompt,
  campaignsKeyboard,
  confirmPrompt,
  contentPrompt,
  type AudienceChoice,
} from '../broadcast-keyboards';
import { audienceText, campaignsText, statusText } from '../broadcast-views';
import type { BotContext, BroadcastDialog, BroadcastStep } from '../context';
import { refusalOf } from '../withdrawal-views';
import { removeButtons, replaceMessage, say, type BotDeps } from './common';
import { newDialogId } from './withdraw';

export interface BroadcastDeps extends BotDeps {
  broadcasts: Broadcasts;
  albums: AlbumStore;
}

/** Campaigns /broadcasts shows. */
export const CAMPAIGNS_SHOWN = 10;

const actor = (ctx: BotContext) => String(ctx.from!.id);

const AUDIENCES: Record<AudienceChoice, Audience> = {
  all: { kind: 'all' },
  a7: { kind: 'active', days: 7 },
  a30: { kind: 'active', days: 30 },
  dep: { kind: 'depositors' },
  'l-en': { kind: 'language', language: 'en' },
  'l-ru': { kind: 'language', language: 'ru' },
};

function endDialog(ctx: BotContext): void {
  ctx.gateway.session.broadcast = undefined;
  if (ctx.gateway.session.awaiting === 'broadcast') ctx.gateway.session.awaiting = undefined;
}

/** The session's dialog if a button was made for it, at this step. */
function currentDialog(ctx: BotContext, dialogId: string, step?: BroadcastStep): BroadcastDialog | undefined {
  const dialog = ctx.gateway.session.broadcast;
  return dialog && dialog.id === dialogId && (!step || dialog.step === step) ? dialog : undefined;
}

async function answerStale(ctx: BotContext, dialogId: string): Promise<void> {
  ctx.gateway.log.info({ dialog: dialogId }, 'stale broadcast dialog button');
  await ctx.answerCbQuery(t(ctx.gateway.lang, 'broadcast.compose.stale'), { show_alert: true });
}

const refusalText = (ctx: BotContext, refusal: Refusal) => t(ctx.gateway.lang, refusal.key, refusal.params);

/** What a refusal of the broadcaster means for the admin; anything that is not one is rethrown. */
function broadcasterRefusal(ctx: BotContext, error: unknown, campaignId?: string): string {
  const refusal = refusalOf(error);
  if (!refusal) throw error;
  ctx.gateway.log.info({ refusal: refusal.type, campaign_id: campaignId }, 'broadcaster refused');
  const lang = ctx.gateway.lang;
  if (/NOT_FOUND/.test(refusal.type) && campaignId) return t(lang, 'broadcast.admin.not_found', { id: campaignId });
  const status = CampaignStatus.safeParse(refusal.data['status']);
  if (/WRONG_STATE/.test(refusal.type) && campaignId && status.success)
    return t(lang, 'broadcast.admin.wrong_state', { id: campaignId, status: statusText(lang, status.data) });
  return t(lang, 'broadcast.admin.refused', { reason: (error as Error).message });
}

/** A step's question, after what the last step answered (prefix), with the step's buttons. */
async function ask(
  ctx: BotContext,
  key: 'ask_content' | 'ask_buttons' | 'ask_audience',
  keyboard: InlineKeyboardMarkup,
  prefix?: string,
): Promise<void> {
  const question = t(ctx.gateway.lang, `broadcast.compose.${key}`);
  await say(ctx, prefix ? `${prefix}\n\n${question}` : question, keyboard);
}

const askContent = (ctx: BotContext, dialog: BroadcastDialog, prefix?: string) =>
  ask(ctx, 'ask_content', contentPrompt(ctx.gateway.lang, dialog.id), prefix);

/** Moves the dialog to a step that waits for the admin's next message, and asks for it. */
function awaitStep(ctx: BotContext, dialog: BroadcastDialog, step: 'buttons' | 'audience') {
  dialog.step = step;
  ctx.gateway.session.awaiting = 'broadcast';
}

async function askButtons(ctx: BotContext, dialog: BroadcastDialog, prefix?: string): Promise<void> {
  awaitStep(ctx, dialog, 'buttons');
  await ask(ctx, 'ask_buttons', buttonsPrompt(ctx.gateway.lang, dialog.id), prefix);
}

async function askAudience(ctx: BotContext, dialog: BroadcastDialog, prefix?: string): Promise<void> {
  awaitStep(ctx, dialog, 'audience');
  await ask(ctx, 'ask_audience', audiencePrompt(ctx.gateway.lang, dialog.id), prefix);
}

/**
 * /broadcast, or /broadcast paid (allow_paid_broadcast: faster, billed in Stars, only where the broadcaster has
 * BROADCAST_PAID_RATE): a new dialog, replacing any earlier one, whose unsent draft is cancelled.
 */
export async function startBroadcast(ctx: BotContext, deps: BroadcastDeps, payload: string): Promise<void> {
  const option = payload.trim().toLowerCase();
  if (option !== '' && option !== 'paid') return say(ctx, t(ctx.gateway.lang, 'broadcast.compose.usage'));
  const earlier = ctx.gateway.session.broadcast;
  if (earlier?.campaignId && (await deps.settleDialog(ctx.from!.id, earlier.id, 'cancelled')) === 'cancelled')
    await cancelDraft(ctx, deps, earlier.campaignId);
  const dialog: BroadcastDialog = { id: newDialogId(), step: 'content', ...(option === 'paid' ? { paid: true } : {}) };
  ctx.gateway.session.broadcast = dialog;
  ctx.gateway.session.awaiting = 'broadcast';
  ctx.gateway.log.info({ dialog: dialog.id, paid: dialog.paid === true }, 'broadcast dialog started');
  await askContent(ctx, dialog, dialog.paid ? t(ctx.gateway.lang, 'broadcast.compose.paid_note') : undefined);
}

/** Any message of an admin while the dialog awaits one (bot.ts routes it here). */
export async function takeBroadcastMessage(ctx: BotContext, deps: BroadcastDeps, message: Message): Promise<void> {
  const lang = ctx.gateway.lang;
  const dialog = ctx.gateway.session.broadcast;
  if (!dialog) {
    ctx.gateway.session.awaiting = undefined;
    await say(ctx, t(lang, 'common.unknown_text'));
    return;
  }
  const text = 'text' in message ? message.text : undefined;
  const albumItem = 'media_group_id' in message && message.media_group_id !== undefined;
  switch (dialog.step) {
    case 'content':
      return albumItem ? takeAlbumItem(ctx, deps, dialog, message) : takeContent(ctx, dialog, message);
    case 'buttons':
      if (text === undefined)
        return say(ctx, t(lang, 'broadcast.compose.buttons_expected'), buttonsPrompt(lang, dialog.id));
      return takeButtons(ctx, dialog, text);
    case 'audience':
      if (albumItem) return say(ctx, t(lang, 'broadcast.compose.album_closed'));
      if (text === undefined)
        return say(ctx, t(lang, 'broadcast.compose.audience_expected'), audiencePrompt(lang, dialog.id));
      return takeTypedAudience(ctx, deps, dialog, text);
    case 'confirm':
      return say(ctx, t(lang, 'broadcast.compose.confirm_expected'));
  }
}

async function takeContent(ctx: BotContext, dialog: BroadcastDialog, message: Message): Promise<void> {
  const read = contentOf(message);
  if (!read.ok) return askContent(ctx, dialog, refusalText(ctx, read));
  dialog.content = read.value;
  ctx.gateway.log.info({ dialog: dialog.id, kind: read.value.kind }, 'broadcast content taken');
  await askButtons(ctx, dialog, t(ctx.gateway.lang, 'broadcast.compose.content_taken'));
}

/**
 * One item of an album: kept in Redis, never in the session (the items are handled side by side, and the
 * session is read, changed and written per update). The first item's update tells the admin to press Done.
 */
async function takeAlbumItem(
  ctx: BotContext,
  deps: BroadcastDeps,
  dialog: BroadcastDialog,
  message: Message & { media_group_id?: string },
): Promise<void> {
  const lang = ctx.gateway.lang;
  const part = mediaPartOf(message);
  if (!part) return say(ctx, t(lang, 'broadcast.compose.unsupported'));
  const first = await deps.albums.add(ctx.from!.id, dialog.id, message.message_id, message.media_group_id!, part);
  if (first) await say(ctx, t(lang, 'broadcast.compose.album_collecting'), albumPrompt(lang, dialog.id));
}

/** Done under the album notice: the latest album's items, in the order they were sent. */
export async function finishAlbum(ctx: BotContext, deps: BroadcastDeps, dialogId: string): Promise<void> {
  const lang = ctx.gateway.lang;
  const dialog = currentDialog(ctx, dialogId, 'content');
  if (!dialog) return answerStale(ctx, dialogId);
  const parts = await deps.albums.latest(ctx.from!.id, dialog.id);
  const read = albumOf(parts);
  if (!read.ok) {
    // Start the album over: what was collected cannot be sent as it is.
    await deps.albums.forget(ctx.from!.id, dialog.id);
    await ctx.answerCbQuery();
    await removeButtons(ctx);
    return askContent(ctx, dialog, refusalText(ctx, read));
  }
  dialog.content = read.value;
  await deps.albums.forget(ctx.from!.id, dialog.id);
  ctx.gateway.log.info({ dialog: dialog.id, items: parts.length }, 'broadcast album taken');
  await ctx.answerCbQuery();
  await removeButtons(ctx);
  // Telegram sends no buttons with an album, so the buttons step is skipped.
  await askAudience(ctx, dialog, t(lang, 'broadcast.compose.album_taken', { count: parts.length }));
}

async function takeButtons(ctx: BotContext, dialog: BroadcastDialog, text: string): Promise<void> {
  const lang = ctx.gateway.lang;
  const read = parseButtons(text);
  const content = dialog.content;
  if (!content || content.kind === 'album') {
    dialog.step = 'content';
    return askContent(ctx, dialog);
  }
  if (!read.ok) {
    await say(
      ctx,
      `${refusalText(ctx, read)}\n\n${t(lang, 'broadcast.compose.buttons_hint')}`,
      buttonsPrompt(lang, dialog.id),
    );
    return;
  }
  dialog.content = { ...content, buttons: read.value };
  const count = read.value.flat().length;
  await askAudience(ctx, dialog, t(lang, 'broadcast.compose.buttons_taken', { count }));
}

export async function skipButtons(ctx: BotContext, dialogId: string): Promise<void> {
  const dialog = currentDialog(ctx, dialogId, 'buttons');
  if (!dialog) return answerStale(ctx, dialogId);
  await ctx.answerCbQuery();
  await removeButtons(ctx);
  await askAudience(ctx, dialog);
}

export async function chooseAudience(
  ctx: BotContext,
  deps: BroadcastDeps,
  dialogId: string,
  choice: AudienceChoice,
): Promise<void> {
  const dialog = currentDialog(ctx, dialogId, 'audience');
  if (!dialog) return answerStale(ctx, dialogId);
  await ctx.answerCbQuery();
  await prepare(ctx, deps, dialog, AUDIENCES[choice]);
  // Only now: should the broadcaster be away (prepare throws), the same buttons can be pressed again.
  await removeButtons(ctx);
}

async function takeTypedAudience(
  ctx: BotContext,
  deps: BroadcastDeps,
  dialog: BroadcastDialog,
  text: string,
): Promise<void> {
  const read = parseAudience(text);
  if (!read.ok) return askAudience(ctx, dialog, refusalText(ctx, read));
  await prepare(ctx, deps, dialog, read.value);
}

/** The broadcaster's draft and its preview (sent by the broadcaster to the admin), then "Send to N users?". */
async function prepare(
  ctx: BotContext,
  deps: BroadcastDeps,
  dialog: BroadcastDialog,
  audience: Audience,
): Promise<void> {
  const lang = ctx.gateway.lang;
  if (!dialog.content) {
    dialog.step = 'content';
    return askContent(ctx, dialog);
  }
  const requestId = ctx.gateway.requestId;
  let campaignId: string | undefined;
  let recipients: number;
  try {
    const paid = dialog.paid === true;
    campaignId = (await deps.broadcasts.create(actor(ctx), dialog.content, audience, paid, requestId)).campaignId;
    recipients = await deps.broadcasts.preview(actor(ctx), campaignId, requestId);
  } catch (error) {
    if (campaignId) await cancelDraft(ctx, deps, campaignId);
    return askAudience(ctx, dialog, broadcasterRefusal(ctx, error));
  }
  ctx.gateway.log.info({ dialog: dialog.id, campaign_id: campaignId, recipients }, 'broadcast draft previewed');
  if (recipients === 0) {
    await cancelDraft(ctx, deps, campaignId);
    return askAudience(ctx, dialog, t(lang, 'broadcast.compose.no_recipients'));
  }
  dialog.campaignId = campaignId;
  dialog.recipients = recipients;
  dialog.step = 'confirm';
  ctx.gateway.session.awaiting = 'broadcast';
  const question = t(lang, 'broadcast.compose.confirm', {
    count: recipients,
    id: campaignId,
    audience: trustedHtml(audienceText(lang, audience)),
  });
  await say(
    ctx,
    dialog.paid ? `${question}\n${t(lang, 'broadcast.compose.paid_note')}` : question,
    confirmPrompt(lang, dialog.id),
  );
}

/** A draft nobody will send: cancelled so it does not linger among the campaigns (a refusal changes nothing). */
async function cancelDraft(ctx: BotContext, deps: BroadcastDeps, campaignId: string): Promise<void> {
  try {
    await deps.broadcasts.control('cancel', actor(ctx), campaignId, ctx.gateway.requestId);
  } catch (error) {
    ctx.gateway.log.warn({ err: error, campaign_id: campaignId }, 'could not cancel an unused broadcast draft');
  }
}

/** Send: starts the draft once; Send and Cancel pressed together are settled by the first (dialog-outcome.ts). */
export async function sendBroadcast(ctx: BotContext, deps: BroadcastDeps, dialogId: string): Promise<void> {
  const lang = ctx.gateway.lang;
  const dialog = currentDialog(ctx, dialogId, 'confirm');
  if (!dialog?.campaignId) return answerStale(ctx, dialogId);
  if ((await deps.settleDialog(ctx.from!.id, dialog.id, 'confirmed')) === 'cancelled')
    return answerStale(ctx, dialogId);
  const campaignId = dialog.campaignId;
  let total: number | null;
  try {
    total = (await deps.broadcasts.start(actor(ctx), campaignId, ctx.gateway.requestId)).total;
  } catch (error) {
    const answer = broadcasterRefusal(ctx, error, campaignId);
    endDialog(ctx);
    await ctx.answerCbQuery(answer, { show_alert: true });
    await removeButtons(ctx);
    return;
  }
  endDialog(ctx);
  ctx.gateway.log.info({ campaign_id: campaignId, total }, 'broadcast started');
  await ctx.answerCbQuery(t(lang, 'broadcast.compose.started_answer'));
  // The broadcaster may still be choosing the recipients (total null): the preview's count stands in.
  const count = total ?? dialog.recipients ?? 0;
  await replaceMessage(ctx, t(lang, 'broadcast.compose.started', { id: campaignId, count }));
}

/** Cancel under any step: nothing is sent (a draft made for the preview is cancelled too). */
export async function cancelBroadcastDialog(ctx: BotContext, deps: BroadcastDeps, dialogId: string): Promise<void> {
  const lang = ctx.gateway.lang;
  const dialog = currentDialog(ctx, dialogId);
  if (!dialog) return answerStale(ctx, dialogId);
  if ((await deps.settleDialog(ctx.from!.id, dialog.id, 'cancelled')) === 'confirmed') {
    await ctx.answerCbQuery(t(lang, 'broadcast.compose.already_started'), { show_alert: true });
    return;
  }
  if (dialog.campaignId) await cancelDraft(ctx, deps, dialog.campaignId);
  await deps.albums.forget(ctx.from!.id, dialog.id);
  endDialog(ctx);
  await ctx.answerCbQuery();
  await removeButtons(ctx);
  await say(ctx, t(lang, 'broadcast.compose.cancelled'));
}

// ---- Campaign control -------------------------------------------------------------------------------------

const CONTROL_DONE: Record<ControlAction, string> = {
  pause: 'broadcast.admin.paused',
  resume: 'broadcast.admin.resumed',
  cancel: 'broadcast.admin.cancelled',
};

/** Pause, resume or cancel; answers the press with the outcome. Whether it was done, for the caller. */
async function control(ctx: BotContext, deps: BroadcastDeps, action: ControlAction, campaignId: string) {
  const lang = ctx.gateway.lang;
  try {
    const progress = await deps.broadcasts.control(action, actor(ctx), campaignId, ctx.gateway.requestId);
    ctx.gateway.log.warn({ campaign_id: campaignId, action, status: progress.status }, 'broadcast controlled');
    await ctx.answerCbQuery(
      t(lang, CONTROL_DONE[action], { id: campaignId, sent: progress.sent, total: progress.total ?? 0 }),
    );
    return true;
  } catch (error) {
    await ctx.answerCbQuery(broadcasterRefusal(ctx, error, campaignId), { show_alert: true });
    return false;
  }
}

/** A button of the broadcaster's live progress message (the broadcaster shows the new state in it). */
export async function controlFromProgress(
  ctx: BotContext,
  deps: BroadcastDeps,
  action: ControlAction,
  campaignId: string,
): Promise<void> {
  await control(ctx, deps, action, campaignId);
}

async function campaigns(ctx: BotContext, deps: BroadcastDeps) {
  const list = await deps.broadcasts.list(CAMPAIGNS_SHOWN, ctx.gateway.requestId);
  const lang = ctx.gateway.lang;
  return { text: campaignsText(lang, list), keyboard: campaignsKeyboard(lang, list) };
}

/** /broadcasts: the latest campaigns with their state, and buttons for what can still be done to each. */
export async function showBroadcasts(ctx: BotContext, deps: BroadcastDeps): Promise<void> {
  const { text, keyboard } = await campaigns(ctx, deps);
  await say(ctx, text, keyboard);
}

/** A button under /broadcasts: done, then the list is shown as it is now. */
export async function controlFromList(
  ctx: BotContext,
  deps: BroadcastDeps,
  action: ControlAction,
  campaignId: string,
): Promise<void> {
  await control(ctx, deps, action, campaignId);
  const { text, keyboard } = await campaigns(ctx, deps);
  await replaceMessage(ctx, text, keyboard);
}
