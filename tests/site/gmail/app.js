// A Gmail-like single-page app for the end-to-end tests (see README.md): renders the inbox
// list for #inbox and a thread for #inbox/<id>, following hash changes (hashchange) with
// no reload, as Gmail does. Like Gmail, each view is a div.nH child of div.aeF > div.nH;
// only the visible one has role="main", the others stay in the document with
// style.display = "none" (the inbox list and every thread opened before). The new view is
// rendered a little after the hash has changed, and the old one stays on screen until then.
const ME = { email: 'alice@sandbox-ventures.test', name: 'Alice Doe' };
const P = {
  bob: { email: 'bob.smith@acme.test', name: 'Bob Smith' }, // seeded: Acme Corporation
  alex: { email: 'alex.morgan@globex.test', name: 'Alex Morgan' }, // seeded: Globex
  jordan: { email: 'jordan@bankerly.test', name: 'Jordan Lee' }, // unknown domain
  sam: { email: 'sam.rivera@gmail.com', name: 'Sam Rivera' }, // free mail
  ben: { email: 'ben@sandbox-ventures.test', name: 'Ben Okafor' }, // the firm (a colleague)
  me: ME,
};
// Decoys: addresses of other companies the sandbox knows (Initech, Megacorp, Solo Labs,
// Twice Listed), only in subjects, bodies, quotes, signatures and snippets. A reader that
// picks any of them up looks them up, and the sandbox's request log shows it.
const THREADS = {
  FMfcgzQZTkHvcRqBjLmWsXpNdKfGtBnS: {
    perm: 'thread-f:1790000000000000101', legacy: '18d7a1b2c3d40101', unread: true,
    subject: 'Intro: Acme × Sandbox Ventures (cc ops@initech.test)',
    snippet: 'Forwarding the deck; questions to dana.fox@megacorp.test',
    messages: [
      { id: '1790000000000000102', legacy: '18d7a1b2c3d40102', from: 'bob', to: ['me'], date: 'Mon, Jan 12, 2026, 4:02 PM', collapsed: true,
        body: 'Quick heads-up before the intro: Sola (sola.founder@solo.test) may join.' },
      { id: '1790000000000000103', legacy: '18d7a1b2c3d40103', from: 'bob', to: ['me', 'jordan', 'ben'], date: 'Tue, Jan 13, 2026, 9:14 AM', details: true,
        body: '<div dir="ltr">Hi Alice,<br>Jordan is advising us on the round. Our CFO is cfo@megacorp.test until March.<br><br>'
          + '---------- Forwarded message ---------<br>From: Dana Fox &lt;<a href="mailto:dana.fox@megacorp.test">dana.fox@megacorp.test</a>&gt;<br>'
          + 'To: ops@initech.test<br>Subject: Anvils<br><br>See attached.<br><br>'
          + '<span email="ceo@twice.test" class="gD" name="Spoof">a sender-controlled element with an email attribute, inside the body</span><br>'
          + '-- <br><div class="gmail_signature">Bob Smith · CTO, Acme · <a href="mailto:press@initech.test">press@initech.test</a></div></div>' },
      { id: '1790000000000000104', legacy: '18d7a1b2c3d40104', from: 'me', to: ['bob', 'jordan', 'ben'], date: 'Tue, Jan 13, 2026, 11:40 AM',
        body: '<div dir="ltr">Thanks Bob, happy to dig in.</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
          + 'On Tue, Jan 13, 2026 at 9:14 AM Bob Smith &lt;<a href="mailto:bob.smith@acme.test">bob.smith@acme.test</a>&gt; wrote:<br></div>'
          + '<blockquote class="gmail_quote">From: Dana Fox &lt;dana.fox@megacorp.test&gt;<br>Cc: sola.founder@solo.test</blockquote></div>' },
    ],
  },
  FMfcgzQZTlDmWqJcXrNvBsKhGpLtMzFd: {
    perm: 'thread-f:1790000000000000201', legacy: '18d7a1b2c3d40201', unread: false,
    subject: 'Globex seed round: data room (from hr@initech.test)',
    snippet: 'Sam, you know the Globex team; loop in ceo@megacorp.test?',
    messages: [
      { id: '1790000000000000202', legacy: '18d7a1b2c3d40202', from: 'alex', to: ['me', 'sam'], date: 'Wed, Jan 14, 2026, 8:05 AM',
        body: '<div dir="ltr">Alice, Sam — data room is up. Legal: counsel@megacorp.test.<br>-- <br>'
          + '<div class="gmail_signature">Alex Morgan · VP Sales, Globex · <a href="mailto:sales@initech.test">sales@initech.test</a></div></div>' },
      { id: '1790000000000000203', legacy: '18d7a1b2c3d40203', from: 'sam', to: ['alex', 'me'], date: 'Wed, Jan 14, 2026, 10:31 AM',
        body: '<div dir="ltr">Count me in.</div><div class="gmail_quote"><div class="gmail_attr">On Wed, Jan 14, 2026 Alex Morgan &lt;'
          + '<a href="mailto:alex.morgan@globex.test">alex.morgan@globex.test</a>&gt; wrote:</div><blockquote class="gmail_quote">Legal: counsel@megacorp.test</blockquote></div>' },
    ],
  },
  FMfcgzQZTmRkPbHxWnCsLqJvDtGfKcXz: {
    perm: 'thread-f:1790000000000000301', legacy: '18d7a1b2c3d40301', unread: true,
    subject: 'Project Roadrunner — teaser (Megacorp carve-out)',
    snippet: 'Confidential teaser attached; NDA via legal@megacorp.test',
    messages: [{ id: '1790000000000000302', legacy: '18d7a1b2c3d40302', from: 'jordan', to: ['me'], date: 'Thu, Jan 15, 2026, 7:50 AM',
      body: 'Teaser attached. NDA via legal@megacorp.test.' }],
  },
  FMfcgzQZTnVcJsMdLkBwQrHxPtZgNfWb: {
    perm: 'thread-f:1790000000000000401', legacy: '18d7a1b2c3d40401', unread: false,
    subject: 'Angel syndicate — Solo Labs?',
    snippet: 'Have you met sola.founder@solo.test yet?',
    messages: [{ id: '1790000000000000402', legacy: '18d7a1b2c3d40402', from: 'sam', to: ['me'], date: 'Thu, Jan 15, 2026, 6:12 PM',
      body: 'Have you met sola.founder@solo.test yet?' }],
  },
  FMfcgzQZTpXbGkWqNcTrJmHsLvDfBzKd: {
    perm: 'thread-f:1790000000000000501', legacy: '18d7a1b2c3d40501', unread: false,
    subject: 'IC memo draft',
    snippet: 'Comments from the Initech reference call (ref@initech.test) inline',
    messages: [{ id: '1790000000000000502', legacy: '18d7a1b2c3d40502', from: 'ben', to: ['me'], date: 'Fri, Jan 16, 2026, 9:00 AM',
      body: 'Comments from the Initech reference call (ref@initech.test) inline.' }],
  },
};
const RENDER_DELAY_MS = 250;

window.__gmailSite = { renders: 0, loadedAt: performance.timeOrigin };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const short = (p) => (p === ME ? 'me' : p.name.split(' ')[0]);
// A participant as Gmail marks it: email and name attributes (name="me" for the user as a
// recipient), data-hovercard-id with the address.
const person = (cls, p, text) =>
  `<span class="${cls}" email="${esc(p.email)}" name="${esc(cls === 'g2' && p === ME ? 'me' : p.name)}" data-hovercard-id="${esc(p.email)}">${esc(text)}</span>`;

function senderCell(p) {
  return `<td class="gF gK"><table class="cf ix"><tbody><tr><td><h3 class="iw"><span class="qu" role="gridcell" tabindex="-1">`
    + `${person('gD', p, p.name)} <span class="go"><span aria-hidden="true">&lt;</span>${esc(p.email)}<span aria-hidden="true">&gt;</span></span>`
    + `</span></h3></td></tr></tbody></table></td>`;
}

function detailsPopup(t, m) {
  // Gmail fills this when "Show details" is opened (hidden by Gmail with an inline style,
  // here by app.css: the test server's CSP allows no inline style); it has the subject too.
  const rows = [['from:', person('gD', P[m.from], P[m.from].name)], ['to:', person('g2', P[m.to[0]], P[m.to[0]].name)],
    ['cc:', m.to.slice(1).map((k) => person('g2', P[k], P[k].name)).join(', ')], ['date:', esc(m.date)],
    ['subject:', esc(t.subject)], ['mailed-by:', esc(P[m.from].email.split('@')[1])]];
  return `<div class="ajA SK"><div class="ajC"><table><tbody>`
    + rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('') + `</tbody></table></div></div>`;
}

function message(t, m) {
  const from = P[m.from];
  const ids = `data-message-id="#msg-f:${m.id}" data-legacy-message-id="${m.legacy}"`;
  const avatar = `<div class="aju"><img class="ajn" alt="" data-hovercard-id="${esc(from.email)}"></div>`;
  if (m.collapsed) {
    // A collapsed message: its sender and a snippet of its body, no recipients.
    const snippet = m.body.replace(/<[^>]+>/g, '');
    return `<div class="kv" role="listitem" aria-expanded="false"><div class="adn ads" ${ids}>${avatar}<div class="gs"><div class="gE iv gt">`
      + `<table class="cf gJ"><tbody><tr class="acZ">${senderCell(from)}<td class="gH"><div class="gK"><span class="g3" title="${esc(m.date)}">${esc(m.date.slice(5, 11))}</span></div></td></tr></tbody></table>`
      + `<div class="iA g6">${esc(snippet)}</div></div></div></div></div>`;
  }
  const to = m.to.map((k) => person('g2', P[k], short(P[k]))).join(', ');
  return `<div class="h7" role="listitem" aria-expanded="true"><div class="Bk"><div class="G3 G2"><div><div class="adn ads" ${ids}>${avatar}<div class="gs">`
    + `<div class="gE iv gt"><table class="cf gJ"><tbody><tr class="acZ">${senderCell(from)}`
    + `<td class="gH"><div class="gK"><span class="g3" title="${esc(m.date)}">${esc(m.date.slice(5, 11))}</span></div></td></tr>`
    + `<tr class="acZ xD"><td colspan="2"><div class="iw ajw"><span class="hb">to ${to}</span>`
    + `<div class="ajy" role="button" aria-haspopup="true" aria-label="Show details"><img class="ajz" alt=""></div></div>`
    + `${m.details ? detailsPopup(t, m) : ''}</td></tr></tbody></table></div>`
    + `<div class="ii gt"><div class="a3s aiL">${m.body}</div></div><div class="hi"></div></div></div></div></div></div></div>`;
}

function threadView(id, t) {
  const view = document.createElement('div');
  view.className = 'nH';
  view.dataset.view = id; // the fixture's own bookkeeping, not Gmail's
  view.innerHTML = `<div class="g id"><div class="a98 iY"><div class="nH"><div class="ha">`
    + `<h2 class="hP" data-thread-perm-id="${t.perm}" data-legacy-thread-id="${t.legacy}">${esc(t.subject)}</h2></div></div>`
    + `<div class="nH aHU hx"><div role="list">${t.messages.map((m) => message(t, m)).join('')}</div></div></div></div>`;
  return view;
}

function row(id, t) {
  // Gmail's list row: the senders in td.yX > div.yW (zF when unread, yP when read; "me" for
  // the user), div.afn a hidden label that repeats senders, subject and snippet.
  const cls = t.unread ? 'zF' : 'yP';
  const seen = [];
  for (const m of t.messages) if (!seen.includes(m.from)) seen.push(m.from);
  const senders = seen.map((k) => `<span class="${cls}" email="${esc(P[k].email)}" name="${esc(k === 'me' ? 'me' : P[k].name)}">${esc(k === 'me' ? 'me' : P[k].name)}</span>`).join(', ');
  const count = t.messages.length > 1 ? ` <span class="bx0">${t.messages.length}</span>` : '';
  return `<tr class="zA ${t.unread ? 'zE' : 'yO'}" role="row" tabindex="-1" data-href="#inbox/${id}">`
    + `<td class="PF xY"></td><td class="oZ-x3 xY aid"><div class="oZ-jc T-Jo J-J5-Ji" role="checkbox" aria-checked="false"></div></td>`
    + `<td class="yX xY"><div class="afn">${t.unread ? 'unread, ' : ''}${senders}, ${esc(t.subject)}, ${esc(t.snippet)}.</div>`
    + `<div class="yW">${senders}${count}</div></td>`
    + `<td class="xY a4W"><div class="xS" role="link"><div class="xT"><div class="y6">`
    + `<span data-thread-id="#${t.perm}" data-legacy-thread-id="${t.legacy}">${t.unread ? `<b>${esc(t.subject)}</b>` : esc(t.subject)}</span>`
    + `<span class="y2"> - ${esc(t.snippet)}</span></div></div></div></td>`
    + `<td class="xW xY"><span title="${esc(t.messages.at(-1).date)}">${esc(t.messages.at(-1).date.slice(5, 11))}</span></td></tr>`;
}

function inboxView() {
  const view = document.createElement('div');
  view.className = 'nH';
  view.dataset.view = 'inbox';
  view.innerHTML = `<div class="nH a0V"><h2 tabindex="-1">Conversations</h2></div><div class="ae4 UI" gh="tl"><div class="Cp"><table class="F cf zt"><tbody>`
    + Object.entries(THREADS).map(([id, t]) => row(id, t)).join('') + `</tbody></table></div></div>`;
  return view;
}

function render() {
  const container = document.querySelector('div.aeF > div.nH');
  const [, thread] = location.hash.match(/^#[^/?]+\/([A-Za-z0-9]+)/) ?? [];
  const key = thread && THREADS[thread] ? thread : 'inbox';
  let view = container.querySelector(`:scope > div.nH[data-view="${key}"]`);
  if (!view) view = container.appendChild(key === 'inbox' ? inboxView() : threadView(key, THREADS[key]));
  for (const v of container.children) {
    const shown = v === view;
    v.style.display = shown ? '' : 'none';
    if (shown) v.setAttribute('role', 'main'); else v.removeAttribute('role');
  }
  document.title = key === 'inbox' ? `Inbox - ${ME.email} - Gmail` : `${THREADS[key].subject} - ${ME.email} - Gmail`;
  window.__gmailSite.renders += 1;
}

let pending = null;
function renderSoon() {
  clearTimeout(pending);
  pending = setTimeout(render, RENDER_DELAY_MS);
}

// Gmail's rows are not links: a click on a row sets the hash.
document.addEventListener('click', (e) => {
  const tr = e.target.closest?.('tr.zA[data-href]');
  if (!tr || e.defaultPrevented || e.button !== 0) return;
  location.hash = tr.dataset.href;
});
window.addEventListener('hashchange', renderSoon);

if (!location.hash) history.replaceState(null, '', '#inbox');
renderSoon();
