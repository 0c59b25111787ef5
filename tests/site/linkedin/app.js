// A LinkedIn-like single-page app: renders the page for the current path from the tables
// below, and follows links marked data-spa with history.pushState (no reload). Like
// LinkedIn, the new page is rendered a little after the URL has changed, and the old one
// stays on screen until then.
const PROFILES = {
  amorgan: {
    name: 'Alex Morgan',
    headline: 'VP Sales at Globex',
    company: 'Globex',
    location: 'Springfield',
    about: 'Building the Globex sales team.',
    also: [['/in/bob-smith', 'Bob Smith', 'CTO at Acme Corporation']],
  },
  'bob-smith': {
    name: 'Bob Smith',
    headline: 'CTO at Acme Corporation',
    company: 'Acme Corporation',
    location: 'Phoenix, Arizona',
    about: 'Anvils, rockets, roller skates.',
    also: [['/company/acme-corp', 'Acme Corporation', 'Company'], ['/in/amorgan', 'Alex Morgan', 'VP Sales at Globex']],
  },
  // The other Alex Morgan: the headline names no company, only the top card does.
  'alex-morgan-initech': {
    name: 'Alex Morgan',
    headline: 'Operations | Process, people and TPS reports',
    company: 'Initech',
    location: 'Austin, Texas',
    about: 'Keeping the printers running.',
    also: [['/in/amorgan', 'Alex Morgan', 'VP Sales at Globex']],
  },
  // Nobody of this name is in Affinity; her company is.
  'ottoline-varga': {
    name: 'Ottoline Varga',
    headline: 'Head of Anvils',
    company: 'Acme Corporation',
    location: 'Phoenix, Arizona',
    about: 'Anvils that land where they should.',
    also: [['/in/bob-smith', 'Bob Smith', 'CTO at Acme Corporation']],
  },
};
const COMPANIES = {
  'acme-corp': {
    name: 'Acme Corporation',
    tagline: 'Anvils, rockets and roller skates since 1949',
    website: 'https://www.acme.test/',
    people: [['/in/bob-smith', 'Bob Smith', 'CTO at Acme Corporation']],
  },
};
const RENDER_DELAY_MS = 250;

window.__linkedinSite = { renders: 0, loadedAt: performance.timeOrigin };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function peopleCard(title, rows) {
  return el('section', { class: 'artdeco-card' }, el('h2', {}, title), el('ul', {}, ...rows.map(([href, name, sub]) =>
    el('li', {}, el('a', { href, 'data-spa': true }, name), ' ', el('span', { class: 'text-body-small' }, sub)))));
}

function profilePage(p) {
  // Like the member view's top card: the headline, then the current company as a button
  // that skips to the experience section.
  const company = p.company ? el('ul', { class: 'pv-text-details__right-panel' }, el('li', {},
    el('button', { type: 'button', 'aria-label': `Current company: ${p.company}. Click to skip to experience card` },
      el('span', { class: 'text-body-small' }, p.company)))) : '';
  return [
    el('section', { class: 'artdeco-card pv-top-card' },
      el('h1', { class: 'text-heading-xlarge' }, p.name),
      el('div', { class: 'text-body-medium break-words' }, p.headline),
      company,
      el('span', { class: 'text-body-small' }, p.location)),
    el('section', { class: 'artdeco-card' }, el('h2', {}, 'About'), el('p', {}, p.about)),
    peopleCard('People also viewed', p.also),
  ];
}

function companyPage(c, slug) {
  return [
    el('section', { class: 'artdeco-card org-top-card' },
      el('h1', { class: 'text-heading-xlarge' }, c.name),
      el('p', { class: 'text-body-medium' }, c.tagline),
      // LinkedIn's own absolute links come first: the website is the first link elsewhere.
      el('p', { class: 'text-body-small' }, 'Share: ',
        el('a', { href: `https://www.linkedin.com/company/${slug}/` }, `linkedin.com/company/${slug}`))),
    el('section', { class: 'artdeco-card' }, el('h2', {}, 'About'),
      el('dl', {}, el('dt', {}, 'Website'),
        el('dd', {}, el('a', { href: c.website, target: '_blank', rel: 'noopener noreferrer' }, c.website)))),
    peopleCard('Employees', c.people),
  ];
}

function render() {
  const [, kind, slug] = location.pathname.match(/^\/(in|company)\/([^/]+)/) ?? [];
  const main = document.getElementById('main');
  let content;
  if (kind === 'in' && PROFILES[slug]) {
    content = profilePage(PROFILES[slug]);
    document.title = `${PROFILES[slug].name} | LinkedIn`;
  } else if (kind === 'company' && COMPANIES[slug]) {
    content = companyPage(COMPANIES[slug], slug);
    document.title = `${COMPANIES[slug].name} | LinkedIn`;
  } else {
    content = [el('section', { class: 'artdeco-card' }, el('h2', {}, 'Feed'), el('p', {}, 'Nothing new.'))];
    document.title = 'Feed | LinkedIn';
  }
  main.replaceChildren(...content);
  main.removeAttribute('aria-busy');
  window.__linkedinSite.renders += 1;
}

let pending = null;
function renderSoon() {
  clearTimeout(pending);
  pending = setTimeout(render, RENDER_DELAY_MS);
}

document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[data-spa]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  if (url.href === location.href) return;
  history.pushState({}, '', url.href);
  renderSoon();
});
window.addEventListener('popstate', renderSoon);

renderSoon();
