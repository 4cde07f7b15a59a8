// The subset of the Telegram Bot API object model (https://core.telegram.org/bots/api#available-types) the
// emulator produces or accepts, plus the emulator's own public option and record types.

export interface User {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

/** getMe's answer: a User with the bot-only capability flags. */
export interface BotUser extends User {
  is_bot: true;
  can_join_groups: boolean;
  can_read_all_group_messages: boolean;
  supports_inline_queries: boolean;
  can_connect_to_business: boolean;
  has_main_web_app: boolean;
}

export interface Chat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  first_name?: string;
  last_name?: string;
  username?: string;
  /** Groups and channels. */
  title?: string;
}

export type MessageEntityType =
  | 'mention'
  | 'hashtag'
  | 'cashtag'
  | 'bot_command'
  | 'url'
  | 'email'
  | 'phone_number'
  | 'bold'
  | 'italic'
  | 'underline'
  | 'strikethrough'
  | 'spoiler'
  | 'blockquote'
  | 'expandable_blockquote'
  | 'code'
  | 'pre'
  | 'text_link'
  | 'text_mention'
  | 'custom_emoji';

export interface MessageEntity {
  type: MessageEntityType;
  /** Offset in UTF-16 code units, as Telegram counts. */
  offset: number;
  length: number;
  url?: string;
  user?: User;
  language?: string;
  custom_emoji_id?: string;
}

export interface InlineKeyboardButton {
  text: string;
  url?: string;
  callback_data?: string;
  web_app?: { url: string };
  login_url?: { url: string };
  switch_inline_query?: string;
  switch_inline_query_current_chat?: string;
  switch_inline_query_chosen_chat?: Record<string, unknown>;
  copy_text?: { text: string };
  callback_game?: Record<string, unknown>;
  pay?: boolean;
}

export interface InlineKeyboardMarkup {
  inline_keyboard: InlineKeyboardButton[][];
}

export interface KeyboardButton {
  text: string;
  request_contact?: boolean;
  request_location?: boolean;
  [extra: string]: unknown;
}

export interface ReplyKeyboardMarkup {
  keyboard: (KeyboardButton | string)[][];
  is_persistent?: boolean;
  resize_keyboard?: boolean;
  one_time_keyboard?: boolean;
  input_field_placeholder?: string;
  selective?: boolean;
}

export interface ReplyKeyboardRemove {
  remove_keyboard: true;
  selective?: boolean;
}

export interface ForceReply {
  force_reply: true;
  input_field_placeholder?: string;
  selective?: boolean;
}

export type ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply;

/** The fields every file object carries (https://core.telegram.org/bots/api#photosize and the others). */
export interface FileBase {
  file_id: string;
  /** Stable across bots and time; file_id may differ per bot. */
  file_unique_id: string;
  file_size?: number;
}

export interface PhotoSize extends FileBase {
  width: number;
  height: number;
}

export interface Document extends FileBase {
  file_name?: string;
  mime_type?: string;
}

export interface Video extends Document {
  width: number;
  height: number;
  duration: number;
}

export interface Audio extends Document {
  duration: number;
  performer?: string;
  title?: string;
}

export interface Voice extends FileBase {
  duration: number;
  mime_type?: string;
}

/** getFile's answer. */
export interface File extends FileBase {
  file_path?: string;
}

export type MediaKind = 'photo' | 'document' | 'video' | 'audio' | 'voice';

export interface Message {
  message_id: number;
  from?: User;
  chat: Chat;
  date: number;
  edit_date?: number;
  media_group_id?: string;
  text?: string;
  entities?: MessageEntity[];
  /** The sizes of one photo, smallest first. */
  photo?: PhotoSize[];
  document?: Document;
  video?: Video;
  audio?: Audio;
  voice?: Voice;
  caption?: string;
  caption_entities?: MessageEntity[];
  reply_to_message?: Message;
  /** Telegram only ever reports an inline keyboard here; reply keyboards are not part of the message. */
  reply_markup?: InlineKeyboardMarkup;
}

export interface CallbackQuery {
  id: string;
  from: User;
  message?: Message;
  inline_message_id?: string;
  chat_instance: string;
  data?: string;
}

export interface ChatMember {
  status: 'creator' | 'administrator' | 'member' | 'restricted' | 'left' | 'kicked';
  user: User;
  until_date?: number;
}

export interface ChatMemberUpdated {
  chat: Chat;
  from: User;
  date: number;
  old_chat_member: ChatMember;
  new_chat_member: ChatMember;
}

export interface Update {
  update_id: number;
  message?: Message;
  edited_message?: Message;
  callback_query?: CallbackQuery;
  my_chat_member?: ChatMemberUpdated;
}

/** The keys of Update that carry a payload, i.e. the values `allowed_updates` speaks of. */
export type UpdateType = Exclude<keyof Update, 'update_id'>;

export interface WebhookInfo {
  url: string;
  has_custom_certificate: boolean;
  pending_update_count: number;
  ip_address?: string;
  last_error_date?: number;
  last_error_message?: string;
  last_synchronization_error_date?: number;
  max_connections?: number;
  allowed_updates?: string[];
}

export interface BotCommand {
  command: string;
  description: string;
}

export interface ResponseParameters {
  migrate_to_chat_id?: number;
  retry_after?: number;
}

export interface ApiSuccess<T = unknown> {
  ok: true;
  result: T;
  description?: string;
}

export interface ApiFailure {
  ok: false;
  error_code: number;
  description: string;
  parameters?: ResponseParameters;
}

export type ApiResponse<T = unknown> = ApiSuccess<T> | ApiFailure;

// ---- Emulator records and options -------------------------------------------------------------------------

export type ParseMode = 'HTML' | 'Markdown' | 'MarkdownV2';

/** A message the bot sent, as the test sees it: the latest state after edits. */
export interface RecordedMessage {
  message_id: number;
  chat_id: number;
  date: number;
  edit_date?: number;
  /** Text (or a media message's caption) after entity parsing, i.e. what the user reads (no HTML tags / Markdown markers). */
  text: string;
  entities: MessageEntity[];
  /** The text or caption exactly as the bot sent it (before parse_mode was applied), latest edit. */
  source_text: string;
  /** For a media message: its kind and the file it carries (for a photo, the largest size). */
  media?: { kind: MediaKind; file_id: string; file_unique_id: string };
  media_group_id?: string;
  parse_mode?: ParseMode;
  /** The markup as the bot sent it, any kind (inline, reply keyboard, remove_keyboard, force_reply). */
  reply_markup?: ReplyMarkup;
  /** How many successful edits were applied (editMessageText / editMessageReplyMarkup). */
  edits: number;
  deleted: boolean;
  /** The Telegram Message object the bot received for it (latest version). */
  raw: Message;
}

export type ApiTransport = 'http' | 'webhook-reply';

/** One Bot API call the bot made, with the answer it got. */
export interface ApiCall {
  /** Canonical method name (Telegram method names are case-insensitive). */
  method: string;
  params: Record<string, unknown>;
  response: ApiResponse;
  /** HTTP status of the answer (for a webhook-reply call: the status it would have had). */
  status: number;
  /** Date.now() when the answer was produced. */
  at: number;
  transport: ApiTransport;
}

/** One file that arrived in a multipart request (whether or not the call then succeeded). */
export interface UploadRecord {
  method: string;
  /** The form field that carried it (`photo`, or an `attach://` name). */
  field: string;
  filename: string;
  mime_type: string;
  size: number;
  /** The file_id it was stored under, once a call used it. */
  file_id?: string;
  at: number;
}

export interface CallbackAnswer {
  callback_query_id: string;
  /** callback_data of the pressed button. */
  data?: string;
  message_id?: number;
  text?: string;
  show_alert: boolean;
  url?: string;
  cache_time?: number;
  at: number;
}

export interface WebhookDelivery {
  update_id: number;
  attempt: number;
  url: string;
  /** Value of the X-Telegram-Bot-Api-Secret-Token header sent, if any. */
  secret_token?: string;
  status?: number;
  error?: string;
  at: number;
}

export interface FailureSpec {
  error_code: number;
  /** Defaults to Telegram's wording for the code (e.g. "Too Many Requests: retry after N" for 429). */
  description?: string;
  retry_after?: number;
  /** How many consecutive calls of the method fail. Default 1. */
  times?: number;
}

export interface RateLimits {
  /** Sustained messages per second to a single chat. Telegram: about 1. */
  perChatPerSecond: number;
  /** Messages a chat accepts back-to-back before the sustained rate applies. */
  perChatBurst: number;
  /** Sustained messages per minute to a single group (a negative chat id). Telegram: 20. */
  perGroupPerMinute: number;
  perGroupBurst: number;
  /** Sustained messages per second for the whole bot. Telegram: 30. */
  globalPerSecond: number;
  globalBurst: number;
  /** Sustained messages per second sent with allow_paid_broadcast (a budget of their own). Telegram: up to 1000. */
  paidPerSecond: number;
  paidBurst: number;
}

export interface WebhookOptions {
  /** Attempts per update before it is dropped (Telegram gives up "after a reasonable amount of attempts"). */
  maxAttempts: number;
  /** First retry delay; doubles each attempt up to retryMaxDelayMs. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** How long the receiver may take to answer one delivery. */
  timeoutMs: number;
}

export interface TelegramEmulatorOptions {
  /** Bot token; a valid-looking random one by default. The part before ':' is the bot's user id. */
  token?: string;
  /** The first update_id handed out (random by default); lets a test make two bots' update ids collide. */
  firstUpdateId?: number;
  botUsername?: string;
  botFirstName?: string;
  /** Enforce Telegram's flood limits (429 with retry_after). Default true. */
  enforceLimits?: boolean;
  limits?: Partial<RateLimits>;
  webhook?: Partial<WebhookOptions>;
  /** Accept http:// webhook URLs (Telegram requires https). Default false. */
  allowHttpWebhooks?: boolean;
}

export interface SimulatedUserOptions {
  id?: number;
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export type MessageMatcher = RegExp | string | ((message: RecordedMessage) => boolean);
