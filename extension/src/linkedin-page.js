// What a LinkedIn page says it is about, read from the page as it stands: for a profile
// (/in/…) the name, headline and current company (with its LinkedIn page when linked);
// for a company page (/company/…) the name and website. Member and public (guest) views.
//
// The most stable signals first: the page's structured data (JSON-LD, checked against the
// URL), ARIA labels, link targets, the page's one heading; class names last. Not the
// <title>: inside the single-page app it names the previous page for a while. What the
// page does not say is left out, never guessed. A content script (it runs before
// content.js, in the same isolated world); the end-to-end tests run the same function over
// saved real pages.
globalThis.affinityLensReadLinkedin = (doc = document, loc = location) => {
  const text = (el) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
  const path = loc.pathname.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p).toLowerCase();
    } catch {
      return p.toLowerCase();
    }
  });
  const [kind, slug] = path;
  const out = {};
  const put = (key, value) => {
    if (typeof value === 'string' && value.replace(/\s+/g, ' ').trim()) out[key] = value.replace(/\s+/g, ' ').trim();
  };
  put('title', doc.title);

  // ---- structured data --------------------------------------------------------------
  /** Every JSON-LD node of the page (graphs flattened); unreadable blocks are skipped. */
  const jsonLd = () => {
    const nodes = [];
    const add = (v) => {
      if (Array.isArray(v)) v.forEach(add);
      else if (v && typeof v === 'object') {
        nodes.push(v);
        if (v['@graph']) add(v['@graph']);
      }
    };
    for (const s of doc.querySelectorAll('script[type="application/ld+json"]')) {
      try {
        add(JSON.parse(s.textContent));
      } catch { /* not JSON: ignore */ }
    }
    return nodes;
  };
  const types = (n) => [].concat(n['@type'] ?? []);
  /** Whether `url` is a LinkedIn URL of this page (`/in/<slug>` or `/company/<slug>`). */
  const isThisPage = (url) => {
    try {
      const u = new URL(url, loc.href);
      const p = u.pathname.split('/').filter(Boolean).map((x) => decodeURIComponent(x).toLowerCase());
      return /(^|\.)linkedin\.com$/.test(u.hostname) && p[0] === kind && p[1] === slug;
    } catch {
      return false;
    }
  };
  /** `https://www.linkedin.com/company/<slug>` for a link to a company page, else undefined. */
  const companyPage = (href) => {
    try {
      const u = new URL(href, loc.href);
      const p = u.pathname.split('/').filter(Boolean);
      if (!/(^|\.)linkedin\.com$/.test(u.hostname) || p[0] !== 'company' || !p[1]) return undefined;
      return `https://www.linkedin.com/company/${p[1].toLowerCase()}`;
    } catch {
      return undefined;
    }
  };
  // This page's own node (a stale one, after navigating inside the app, is not this page).
  const self = jsonLd().find((n) => [].concat(n.url ?? [], n.sameAs ?? []).some(
    (u) => typeof u === 'string' && isThisPage(u),
  ) && types(n).some((t) => (kind === 'in' ? t === 'Person' : /Organization|Corporation/.test(t))));

  // The heading: the page's only h1, in its main content where there is one.
  const h1 = doc.querySelector('main h1') ?? doc.querySelector('h1');
  if (kind === 'in' && slug) {
    put('name', self?.name);
    // Not the title: inside the app it still names the previous page for a while.
    if (!out.name) put('name', text(h1));
    // The top card: the section around the name.
    const top = h1?.closest('section') ?? doc;
    const headline = top.querySelector('.top-card-layout__headline')
      ?? top.querySelector('[data-generated-suggestion-target^="urn:li:fsu_profileActionDelegate"]')
      ?? top.querySelector('.text-body-medium');
    put('headline', text(headline));

    // The current company. Structured data (guest view): the first current position.
    const works = [].concat(self?.worksFor ?? []).filter((o) => o && typeof o.name === 'string' && o.name.trim());
    if (works.length) {
      put('company', works[0].name);
      put('company_url', works[0].url && companyPage(works[0].url));
    }
    // Member view: the top card's "Current company: X. Click to skip to experience card".
    if (!out.company) {
      const button = doc.querySelector('[aria-label^="Current company:" i]');
      if (button) {
        const label = button.getAttribute('aria-label').replace(/^Current company:\s*/i, '').replace(/\.\s*Click to skip to experience card\.?$/i, '');
        put('company', text(button) || label);
      }
    }
    // Guest view without structured data: the top card's current-position link.
    if (!out.company) {
      const link = doc.querySelector('a[data-tracking-control-name$="topcard-current-company"]');
      const box = link ?? top.querySelector('[data-section="currentPositionsDetails"]');
      put('company', text(box?.querySelector('.top-card-link__description') ?? box));
      if (link) put('company_url', companyPage(link.href));
    }
    // The company's LinkedIn page (member view): its logo link in the experience section,
    // recognised by the logo's name; a company without a page has none.
    if (out.company && !out.company_url) {
      const logo = [...doc.querySelectorAll('a[href*="/company/"] img[alt]')].find(
        (img) => img.alt.trim().toLowerCase() === `${out.company} logo`.toLowerCase(),
      );
      put('company_url', logo && companyPage(logo.closest('a').href));
    }
    return out;
  }

  if (kind === 'company' && slug) {
    put('name', self?.name);
    if (!out.name) put('name', h1?.getAttribute('title') || text(h1));
    put('website', companyWebsite(self));
    return out;
  }
  return out;

  /**
   * A company page's website: where the page labels a link as the website (structured data,
   * the About section's "Website", "Visit website"), LinkedIn's redirect unwrapped. LinkedIn's
   * own links, maps and social networks are never the website.
   */
  function companyWebsite(self) {
    const unwrap = (href) => {
      try {
        const u = new URL(href, loc.href);
        if (/(^|\.)linkedin\.com$/.test(u.hostname) && u.pathname.startsWith('/redir/redirect')) {
          return unwrap(u.searchParams.get('url') ?? '');
        }
        return u;
      } catch {
        return null;
      }
    };
    const NOT_A_WEBSITE = /(^|\.)(linkedin\.com|licdn\.com|lnkd\.in|bing\.com|google\.[a-z.]+|goo\.gl|apple\.com|openstreetmap\.org|facebook\.com|fb\.com|instagram\.com|twitter\.com|x\.com|youtube\.com|youtu\.be|tiktok\.com|crunchbase\.com|glassdoor\.[a-z.]+|wikipedia\.org)$/i;
    const accept = (href) => {
      const u = href && unwrap(href);
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || NOT_A_WEBSITE.test(u.hostname)) return null;
      return u.href;
    };
    const label = (el) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim().toLowerCase();
    const candidates = [
      // Structured data (guest view).
      ...[].concat(self?.sameAs ?? [], self?.url ?? []).filter((u) => typeof u === 'string'),
      // The guest view's About: "Website".
      ...[...doc.querySelectorAll('a[data-tracking-control-name="about_website"]')].map((a) => a.getAttribute('href')),
      // A definition list whose term is "Website" (the member view's About page, the imitation).
      ...[...doc.querySelectorAll('dt')].filter((dt) => label(dt) === 'website').flatMap((dt) => {
        const dd = dt.nextElementSibling;
        return dd ? [...dd.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')) : [];
      }),
      // The member view's top card: "Visit website".
      ...[...doc.querySelectorAll('a[href]')].filter((a) => /^visit website$/.test(label(a))
        || /website/i.test(a.getAttribute('aria-label') ?? '')).map((a) => a.getAttribute('href')),
    ];
    for (const c of candidates) {
      const site = accept(c);
      if (site) return site;
    }
    return undefined;
  }
};
