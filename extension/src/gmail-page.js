// What a Gmail page shows of who is on the open thread, or who sent the inbox's threads,
// read from the header area only (docs/gmail-markup.md): the `email` attributes of each
// message's sender and recipients, the account's own address, and nothing else. Never the
// subject, a body, a quote, a signature, an attachment, the details popup or the page's
// title: an `[email]` inside any of those is skipped, since a body is sender-written HTML.
//
// Gmail keeps earlier views in the page, hidden: only the visible `[role=main]` is read.
// What does not match the markup is absent, never guessed. A content script (it runs
// before content.js, in the same isolated world); the end-to-end tests run the same
// function over tests/site/gmail.
globalThis.affinityLensReadGmail = (doc = document, loc = location) => {
  /** Where an address may be written by somebody other than Gmail, or where the subject is. */
  const EXCLUDED = [
    '.a3s', '.ii', '.adP', '.gmail_quote', '.gmail_attr', 'blockquote', // bodies and quotes
    '.hq', '.aQH', '.aZo', // attachments
    '.ajA', // the details popup (it holds the subject)
    '.ha', 'h2.hP', // the subject
    '.afn', '.y6', '.y2', // the list's hidden label, subject and snippet
    '.iA', // a collapsed message's snippet
    '[role=dialog]', '.M9', '.AD', '.ip', // compose windows and the inline reply box
  ].join(', ');
  const MAX = 500;
  const ADDRESS = /^[^\s@<>",;()]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?$/;
  const address = (value) => {
    if (typeof value !== 'string') return null;
    const v = value.trim();
    return v.length <= 254 && ADDRESS.test(v) ? v.toLowerCase() : null;
  };
  const shown = (el) => el.getClientRects().length > 0;
  const clean = (s) => (typeof s === 'string' ? s.replace(/\s+/g, ' ').trim().slice(0, 200) : '');

  /** The visible view: Gmail's other views stay in the document with display: none. */
  const main = [...doc.querySelectorAll('[role=main]')].find(shown) ?? null;

  /** The account's address, from the account button ("Google Account: Name (email)"). */
  const me = [];
  for (const a of doc.querySelectorAll('[role=banner] a[aria-label], header a[aria-label]')) {
    const label = a.getAttribute('aria-label') ?? '';
    const inParens = label.match(/\(([^()]*)\)\s*$/);
    const own = inParens && address(inParens[1]);
    if (own && !me.includes(own)) me.push(own);
  }

  const hash = loc.hash.replace(/^#/, '').split('?')[0];
  const threadId = (hash.match(/\/([0-9A-Za-z]{16,})$/) ?? [])[1] ?? null;
  /** @type {{ view: 'other' | 'thread' | 'list', thread: string | null, addresses: { email: string, name: string | null, role: 'from' | 'to' }[], me: string[], senders: string[][] }} */
  const out = { view: 'other', thread: threadId, addresses: [], me, senders: [] };
  if (!main) return out;

  /** `[email]` elements under `root` matching `selector`, outside the excluded parts. */
  const emails = (root, selector) =>
    [...root.querySelectorAll(selector)].filter((el) => !el.closest(EXCLUDED) && address(el.getAttribute('email')));

  /** @param {Element} el @param {'from' | 'to'} role */
  const person = (el, role) => {
    const email = address(el.getAttribute('email')) ?? '';
    const name = clean(el.getAttribute('name') ?? '');
    // Gmail names the user "me" (localized: a hint; the account button decides too).
    if (role !== 'from' && name.toLowerCase() === 'me' && !me.includes(email)) me.push(email);
    return { email, name: name && name.toLowerCase() !== 'me' ? name : null, role };
  };

  // An open thread: its messages are the items of its list, each with a message id.
  const items = [...main.querySelectorAll('[role=list] > [role=listitem]')].filter(
    (item) => item.querySelector('[data-message-id], [data-legacy-message-id]') && shown(item),
  );
  const messages = items.length
    ? items.map((item) => ({ item, message: /** @type {Element} */ (item.querySelector('[data-message-id], [data-legacy-message-id]')) }))
    : [...main.querySelectorAll('.adn[data-message-id]')].filter(shown).map((m) => ({ item: m, message: m }));
  if (messages.length) {
    out.view = 'thread';
    for (const { item, message } of messages) {
      if (out.addresses.length >= MAX) break;
      const header = emails(message, 'h3.iw [email], td.gF [email], span.gD[email]');
      if (header[0]) out.addresses.push(person(header[0], 'from'));
      // A collapsed message shows its sender only: its recipients are not in the page.
      const expanded = item.classList.contains('h7') || message.classList.contains('h7');
      if (!expanded) continue;
      for (const el of emails(message, 'span.hb [email]')) out.addresses.push(person(el, 'to'));
    }
    out.addresses = out.addresses.slice(0, MAX);
    return out;
  }

  // The inbox list: each row's senders.
  const rows = [...main.querySelectorAll('[gh=tl] tr.zA')].filter(shown);
  if (rows.length) out.view = 'list';
  for (const row of rows.slice(0, MAX)) {
    const senders = emails(row, 'td div.yW [email]').map((el) => person(el, 'from'));
    out.senders.push(senders.map((s) => s.email));
  }
  return out;
};

/** The visible view (Gmail keeps the others in the page, hidden), or null. */
globalThis.affinityLensGmailView = (doc = document) =>
  [...doc.querySelectorAll('[role=main]')].find((el) => el.getClientRects().length > 0) ?? null;

/** The inbox list's rows in the visible view, for badging (the elements, in order). */
globalThis.affinityLensGmailRows = (doc = document) => {
  const main = globalThis.affinityLensGmailView(doc);
  return main ? [...main.querySelectorAll('[gh=tl] tr.zA')].filter((el) => el.getClientRects().length > 0) : [];
};

/**
 * The senders' elements of the inbox list's rows (`td div.yW [email]`, not the row's hidden
 * label, subject or snippet), each with an `email` attribute: what gets a badge.
 */
globalThis.affinityLensGmailSenders = (doc = document) =>
  globalThis.affinityLensGmailRows(doc).slice(0, 500).flatMap((row) =>
    [...row.querySelectorAll('td div.yW [email]')].filter((el) => !el.closest('.afn, .y6, .y2') && /@/.test(el.getAttribute('email') ?? '')));
