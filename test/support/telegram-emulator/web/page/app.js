// The sandbox web chat: talks to the emulator's /sandbox/api routes and re-renders on its server-sent events.
/* global document, window, fetch, URLSearchParams, EventSource, Element, setTimeout, clearTimeout, setInterval -- a browser page */
import { deepLinkCode, renderText, safeUrl } from './render.js';

const $ = (selector) => document.querySelector(selector);
const state = { bot: { username: '' }, chats: [], current: null, chain: false, freeAdminIds: [], lastAnswer: null };

async function api(path, options = {}) {
  const init = { ...options, headers: { ...(options.headers ?? {}) } };
  if (options.json !== undefined) {
    init.method = init.method ?? 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

let toastTimer;
function toast(text) {
  const box = $('#toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), 3500);
}

// ---- Chat list -------------------------------------------------------------------------------------------

async function loadState() {
  const data = await api('/sandbox/api/state');
  state.bot = data.bot;
  state.chats = data.chats;
  state.freeAdminIds = data.freeAdminIds;
  state.chain = data.chain;
  $('#bot-name').textContent = `@${data.bot.username}`;
  $('#chain').hidden = !data.chain;
  $('#app').classList.toggle('no-chain', !data.chain);
  renderChatList();
}

function renderChatList() {
  $('#no-chats').hidden = state.chats.length > 0;
  $('#chat-list').replaceChildren(
    ...state.chats.map((chat) =>
      el(
        'li',
        {
          className: chat.id === state.current ? 'active' : '',
          dataset: { chatId: String(chat.id) },
          onclick: () => openChat(chat.id),
        },
        el(
          'div',
          { className: 'name', textContent: chat.name },
          chat.admin ? el('span', { className: 'badge', textContent: 'admin' }) : null,
        ),
        el('div', { className: 'last', textContent: chat.last }),
      ),
    ),
  );
}

// ---- One chat --------------------------------------------------------------------------------------------

async function openChat(id) {
  state.current = id;
  state.lastAnswer = null;
  renderChatList();
  $('#text-input').disabled = false;
  $('#send').disabled = false;
  await refreshChat(true);
  void refreshChain();
  $('#text-input').focus();
}

async function refreshChat(scrollToEnd = false) {
  if (state.current === null) return;
  const id = state.current;
  const chat = await api(`/sandbox/api/chats/${id}`);
  if (state.current !== id) return;
  $('#chat-title').textContent = chat.name;
  $('#chat-sub').textContent = `id ${chat.id} · ${chat.language}${chat.admin ? ' · admin' : ''}`;
  const box = $('#messages');
  const atEnd = scrollToEnd || box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  box.replaceChildren(...groupAlbums(chat.messages).map(renderBubble));
  if (atEnd) box.scrollTop = box.scrollHeight;
  renderReplyKeyboard(chat.replyKeyboard);
  $('#text-input').placeholder = chat.placeholder ?? 'Message';
  const answer = chat.callbackAnswers.at(-1);
  if (answer && answer.callback_query_id !== state.lastAnswer) {
    if (state.lastAnswer !== null && answer.text) toast(answer.text);
    state.lastAnswer = answer.callback_query_id;
  } else if (!answer) state.lastAnswer = '';
}

/** Consecutive messages sharing a media_group_id form one album bubble. */
function groupAlbums(messages) {
  const groups = [];
  for (const message of messages) {
    const last = groups.at(-1);
    if (message.mediaGroupId && last && last[0].mediaGroupId === message.mediaGroupId) last.push(message);
    else groups.push([message]);
  }
  return groups;
}

function renderMedia(media) {
  const src = `/sandbox/files/${encodeURIComponent(media.fileId)}`;
  switch (media.kind) {
    case 'photo':
      return el('img', { className: 'photo', src, alt: 'photo' });
    case 'video':
      return el('video', { src, controls: true, preload: 'metadata' });
    case 'voice':
      return el(
        'div',
        { className: 'file' },
        '🎤 voice message',
        el('audio', { src, controls: true, preload: 'none' }),
      );
    case 'audio': {
      const label = [media.performer, media.title].filter(Boolean).join(' — ') || media.fileName || 'audio';
      return el('div', { className: 'file' }, `🎵 ${label}`, el('audio', { src, controls: true, preload: 'none' }));
    }
    default:
      return el('a', {
        className: 'file',
        href: src,
        download: media.fileName ?? 'file',
        textContent: `📄 ${media.fileName ?? 'document'}`,
      });
  }
}

function renderBubble(group) {
  const first = group[0];
  const bubble = el('div', {
    className: `msg${first.fromBot ? '' : ' mine'}`,
    dataset: { messageId: String(first.id), from: first.fromBot ? 'bot' : 'user' },
  });
  const withMedia = group.filter((m) => m.media);
  if (group.length > 1) bubble.append(el('div', { className: 'album' }, ...withMedia.map((m) => renderMedia(m.media))));
  else if (first.media) bubble.append(renderMedia(first.media));
  const captioned = group.find((m) => m.text !== '') ?? first;
  if (captioned.text !== '')
    bubble.append(el('div', { className: 'text' }, renderText(captioned.text, captioned.entities)));
  if (first.inlineKeyboard.length > 0) bubble.append(renderInlineKeyboard(first));
  const time = new Date(first.date * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  bubble.append(el('div', { className: 'meta', textContent: `${first.edited ? 'edited ' : ''}${time}` }));
  return bubble;
}

function renderInlineKeyboard(message) {
  return el(
    'div',
    { className: 'inline-kb' },
    ...message.inlineKeyboard.map((row) =>
      el(
        'div',
        { className: 'row' },
        ...row.map((button) =>
          el('button', {
            type: 'button',
            textContent: button.url ? `${button.text} ↗` : button.text,
            onclick: () => pressInline(message, button),
          }),
        ),
      ),
    ),
  );
}

async function pressInline(message, button) {
  try {
    if (button.data !== undefined) {
      await api(`/sandbox/api/chats/${state.current}/press`, { json: { messageId: message.id, data: button.data } });
    } else if (button.url) {
      followLink(button.url);
    } else {
      toast('This kind of button does nothing in the sandbox.');
    }
  } catch (error) {
    toast(error.message);
  }
}

/** A referral link of this bot opens a new user with its start code; other links open in a new tab. */
function followLink(href) {
  const code = deepLinkCode(href, state.bot.username);
  if (code) return openNewUserDialog(code);
  const safe = safeUrl(href);
  if (safe) window.open(safe, '_blank', 'noopener');
}

function renderReplyKeyboard(rows) {
  const box = $('#reply-keyboard');
  box.hidden = !rows;
  box.replaceChildren(
    ...(rows ?? []).map((row) =>
      el(
        'div',
        { className: 'row' },
        ...row.map((text) => el('button', { type: 'button', textContent: text, onclick: () => pressKey(text) })),
      ),
    ),
  );
}

async function pressKey(text) {
  try {
    await api(`/sandbox/api/chats/${state.current}/key`, { json: { text } });
  } catch (error) {
    toast(error.message);
  }
}

async function sendText(text) {
  await api(`/sandbox/api/chats/${state.current}/text`, { json: { text } });
}

async function sendFile(file, caption) {
  const kind = file.type.startsWith('image/') ? 'photo' : 'document';
  const query = new URLSearchParams({ kind, name: file.name, caption });
  await api(`/sandbox/api/chats/${state.current}/media?${query}`, {
    method: 'POST',
    headers: { 'Content-Type': file.type || 'application/octet-stream' },
    body: file,
  });
}

// ---- New user ----------------------------------------------------------------------------------------------

function openNewUserDialog(startCode = '') {
  const dialog = $('#new-user-dialog');
  $('#new-name').value = '';
  $('#new-start').value = startCode;
  $('#new-admin').checked = false;
  $('#new-admin-row').hidden = state.freeAdminIds.length === 0;
  $('#new-user-error').textContent = '';
  dialog.showModal();
  $('#new-name').focus();
}

async function createUser(event) {
  event.preventDefault();
  const start = $('#new-start').value.trim();
  const body = {
    name: $('#new-name').value,
    language: $('#new-language').value,
    ...($('#new-admin').checked ? { admin: true } : {}),
    ...(start ? { start } : {}),
  };
  try {
    const { id } = await api('/sandbox/api/users', { json: body });
    $('#new-user-dialog').close();
    await loadState();
    await openChat(id);
  } catch (error) {
    $('#new-user-error').textContent = error.message;
  }
}

// ---- Local chain -------------------------------------------------------------------------------------------

function chainError(message) {
  $('#chain-error').textContent = message;
}

function details(target, rows) {
  target.replaceChildren(...rows.flatMap(([label, value]) => [el('dt', { textContent: label }), el('dd', {}, value)]));
}

let chainTimer;
function scheduleChain() {
  clearTimeout(chainTimer);
  chainTimer = setTimeout(() => void refreshChain(), 150);
}

async function refreshChain() {
  if (!state.chain) return;
  try {
    const info = await api('/sandbox/api/chain/info');
    details($('#chain-info'), [
      ['chain id', String(info.chainId)],
      ['head block', el('span', { id: 'chain-head', textContent: String(info.head) })],
      ['test USDT', el('code', { textContent: info.usdtContract })],
      ['system wallet', el('code', { textContent: info.systemWallet })],
    ]);
    const wallets = await Promise.all(state.chats.map((chat) => api(`/sandbox/api/chain/wallets/${chat.id}`)));
    $('#wallets tbody').replaceChildren(
      ...wallets.map((wallet, i) =>
        el(
          'tr',
          {},
          el('td', { textContent: state.chats[i].name }),
          el(
            'td',
            {},
            el('code', {
              textContent: `${wallet.address.slice(0, 8)}…${wallet.address.slice(-4)}`,
              title: wallet.address,
            }),
          ),
          el('td', { className: 'amount', textContent: `${wallet.usdt} USDT` }),
        ),
      ),
    );
    const mine = wallets.find((w) => w.userId === state.current);
    const owner = state.chats.find((c) => c.id === state.current);
    $('#wallet-panel').hidden = !mine;
    if (mine) {
      $('#wallet-owner').textContent = owner?.name ?? '';
      $('#wallet-address').textContent = mine.address;
      $('#wallet-usdt').textContent = mine.usdt;
      $('#wallet-bnb').textContent = mine.bnb;
    }
    if (!$('#tx-view').hidden && $('#tx-view').dataset.hash) await showTx($('#tx-view').dataset.hash, false);
  } catch (error) {
    chainError(error.message);
  }
}

async function showTx(hash, scroll = true) {
  try {
    const tx = await api(`/sandbox/api/chain/tx/${hash}`);
    const view = $('#tx-view');
    view.hidden = false;
    view.dataset.hash = hash;
    details($('#tx-details'), [
      ['hash', el('code', { textContent: tx.hash })],
      ['status', tx.status],
      ['block', tx.block === null ? 'pending' : String(tx.block)],
      ['confirmations', el('span', { id: 'tx-confirmations', textContent: String(tx.confirmations) })],
      ['from', el('code', { textContent: tx.usdt?.from ?? tx.from })],
      ['to', el('code', { textContent: tx.usdt?.to ?? tx.to ?? '—' })],
      ['USDT', tx.usdt ? `${tx.usdt.amount} USDT` : '—'],
    ]);
    if (scroll) view.scrollIntoView({ block: 'nearest' });
  } catch (error) {
    chainError(error.message);
  }
}

async function chainAction(run) {
  chainError('');
  try {
    await run();
  } catch (error) {
    chainError(error.message);
  }
  await refreshChain();
}

// ---- Wiring ------------------------------------------------------------------------------------------------

function wire() {
  $('#new-user').addEventListener('click', () => openNewUserDialog());
  $('#new-user-form').addEventListener('submit', createUser);
  $('#new-user-cancel').addEventListener('click', () => $('#new-user-dialog').close());
  $('#composer').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('#text-input');
    if (state.current === null || input.value.trim() === '') return;
    try {
      await sendText(input.value);
      input.value = '';
    } catch (error) {
      toast(error.message);
    }
  });
  $('#file-input').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    event.target.value = '';
    if (!file || state.current === null) return;
    try {
      await sendFile(file, $('#text-input').value);
      $('#text-input').value = '';
    } catch (error) {
      toast(error.message);
    }
  });
  // Links inside messages: transaction hashes open the transaction view, referral links a new user, commands are sent.
  $('#messages').addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const tx = target?.closest('a.tx-link');
    if (tx) {
      event.preventDefault();
      if (state.chain) void showTx(tx.dataset.tx);
      return;
    }
    const anchor = target?.closest('a[href]');
    if (anchor && deepLinkCode(anchor.href, state.bot.username)) {
      event.preventDefault();
      followLink(anchor.href);
      return;
    }
    const command = target?.closest('.command');
    if (command) void sendText(command.textContent).catch((error) => toast(error.message));
  });
  $('#register-wallet').addEventListener('click', () =>
    chainAction(() => api(`/sandbox/api/chats/${state.current}/register-wallet`, { json: {} })),
  );
  $('#deposit-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void chainAction(async () => {
      const { hash } = await api('/sandbox/api/chain/deposit', {
        json: { userId: state.current, amount: $('#deposit-amount').value.trim() },
      });
      await showTx(hash);
    });
  });
  $('#mine-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void chainAction(() => api('/sandbox/api/chain/mine', { json: { blocks: Number($('#mine-count').value) } }));
  });
  $('#tx-close').addEventListener('click', () => {
    $('#tx-view').hidden = true;
    delete $('#tx-view').dataset.hash;
  });

  let pending;
  const events = new EventSource('/sandbox/events');
  events.addEventListener('chat', (event) => {
    const id = Number(event.data);
    clearTimeout(pending);
    pending = setTimeout(async () => {
      await loadState().catch(() => undefined);
      if (id === state.current || state.current !== null) await refreshChat().catch(() => undefined);
      scheduleChain();
    }, 60);
  });
  // New blocks change balances and confirmations without any chat changing.
  setInterval(() => {
    if (state.chain && document.visibilityState === 'visible') void refreshChain();
  }, 3000);
}

wire();
await loadState();
const first = state.chats[0];
if (first) await openChat(first.id);
else void refreshChain();
