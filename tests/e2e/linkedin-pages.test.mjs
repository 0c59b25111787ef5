// The content script's LinkedIn reading (extension/src/linkedin-page.js) over real LinkedIn
// pages saved by other projects: logged-in member and public guest views of profiles (2023
// to 2025, with the 2025 hashed class names), a public company page and a logged-in
// company top card. The pages are read from ../shared/real-world/linkedin beside the
// repository at test time (never copied into it): without them this test fails.
//
// Each page is served at its LinkedIn URL in headless Chromium with its own scripts
// blocked (a Content-Security-Policy of script-src 'none', every other request refused),
// and the same function the content script calls reads it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, CHROMIUM_ARGS } from './harness.mjs';

const PAGES = join(root, '..', 'shared', 'real-world', 'linkedin');
const READER = readFileSync(join(root, 'extension', 'src', 'linkedin-page.js'), 'utf8');

// What each page shows, as a person reads it; absent means the page does not say.
const EXPECTED = {
  'profile-guest-2023-04-dulitha-wijewantha.html': {
    url: 'https://sg.linkedin.com/in/dulithawijewantha',
    name: 'Dulitha Wijewantha',
    headline: 'Building businesses on the Internet | AI/ ML Experimenter 🔬 | Web3 Degen 🧪 | Co-Founder @ Aristotle 🧠 | Helping Founders setup & scale tech teams 🧑🏼‍💻 CA(Co-Founder)',
    company: 'Aristotle - Co-Pilot for Cold Sales',
    company_url: 'https://www.linkedin.com/company/aristotlehq',
  },
  'profile-guest-2023-04-kekayan-nanthakumar.html': {
    url: 'https://lk.linkedin.com/in/kekayan',
    name: 'Kekayan Nanthakumar',
    headline: 'Senior Software Engineer at Insighture | 2x AWS | AWS SAA | AWS DVA | Serverless Enthusiast',
    company: "Insighture - We're hiring",
    company_url: 'https://www.linkedin.com/company/insighture',
  },
  // No headline on this guest page; the current company has no LinkedIn page.
  'profile-guest-2024-04-abgar-gulo.html': {
    url: 'https://se.linkedin.com/in/abgargulo',
    name: 'Abgar Gulo',
    company: 'Recruitjob.se',
  },
  'profile-guest-2024-04-eduardo-alvarez-nowak.html': {
    url: 'https://se.linkedin.com/in/eduardo-alvarez-nowak',
    name: 'Eduardo Alvarez Nowak',
    headline: 'Tech Education Lead, Tech Expert & Frontend Dev at Novare Potential',
    company: 'Novare Potential',
    company_url: 'https://www.linkedin.com/company/novare-potential',
  },
  'profile-guest-2024-04-sri-lalitha-jeevanige.html': {
    url: 'https://se.linkedin.com/in/sri-lalitha-jeevanige-35520a61',
    name: 'Sri Lalitha Jeevanige',
    headline: 'SAFe certified Scrum Master @ Swedbank | Pega Senior System Architect',
    company: 'Swedbank',
    company_url: 'https://www.linkedin.com/company/swedbank',
  },
  'profile-member-2024-07-abgar-gulo.html': {
    url: 'https://www.linkedin.com/in/abgargulo/',
    name: 'Abgar Gulo',
    headline: 'Board member of Mobvilla AB',
    company: 'Recruitjob.se',
  },
  'profile-member-2024-07-eduardo-alvarez-nowak.html': {
    url: 'https://www.linkedin.com/in/eduardo-alvarez-nowak/',
    name: 'Eduardo Alvarez Nowak',
    headline: 'Tech Education Lead, Tech Expert & Frontend Dev at Novare Potential',
    company: 'Novare Potential',
    company_url: 'https://www.linkedin.com/company/10464352',
  },
  'profile-member-2024-07-sri-lalitha-jeevanige.html': {
    url: 'https://www.linkedin.com/in/sri-lalitha-jeevanige-35520a61/',
    name: 'Sri Lalitha Jeevanige',
    headline: 'SAFe certified Scrum Master @ Swedbank | Pega Senior System Architect',
    company: 'Swedbank',
    company_url: 'https://www.linkedin.com/company/5049',
  },
  'profile-member-2024-08-surendra-thota.html': {
    url: 'https://www.linkedin.com/in/surendrathota/',
    name: 'Surendra Thota',
    headline: 'Analytics Solutions | Data Architect & Engineer | Data Analytics Expert | Cloud Platform guru',
    company: 'Tata Consultancy Services',
    company_url: 'https://www.linkedin.com/company/1353',
  },
  // The top card names no company, and the headline none either.
  'profile-member-2024-08-vasileios-alevizos.html': {
    url: 'https://www.linkedin.com/in/vasileiosalevizos/',
    name: 'Vasileios Alevizos',
    headline: 'Researcher.',
  },
  'profile-member-2025-09-anwar-misbah.html': {
    url: 'https://www.linkedin.com/in/anwarmisbah/',
    name: 'Anwar Misbah',
    headline: 'I help Independent professionals optimize their LinkedIn | Founder @InLinkAI & @Linkindeen',
    company: 'InLinkAI',
    company_url: 'https://www.linkedin.com/company/102585323',
  },
  // The website is behind LinkedIn's redirect; a Bing Maps link comes later in the page.
  'company-guest-2024-10-audiense.html': {
    url: 'https://uk.linkedin.com/company/audiense',
    name: 'Audiense',
    website: 'http://www.audiense.com/',
  },
  'company-member-2025-04-relevance-ai.fragment.html': {
    url: 'https://www.linkedin.com/company/relevanceai/',
    name: 'Relevance AI',
    website: 'https://relevanceai.com/',
  },
};
const FIELDS = ['name', 'headline', 'company', 'company_url', 'website'];

let browser;
let context;

before(async () => {
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
});

/** What the content script reads from `file` served at `url`. */
async function read(file, url) {
  const html = readFileSync(join(PAGES, file));
  const page = await context.newPage();
  try {
    await page.route('**/*', (route) => {
      const request = route.request();
      if (request.isNavigationRequest() && request.url() === url) {
        return route.fulfill({
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "script-src 'none'" },
          body: html,
        });
      }
      return route.abort();
    });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.evaluate(READER);
    return await page.evaluate(() => globalThis.affinityLensReadLinkedin(document, location));
  } finally {
    await page.close();
  }
}

test('every saved page has its expectations, and every expectation its page', () => {
  const files = readdirSync(PAGES).filter((f) => f.endsWith('.html')).sort();
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
  assert.equal(files.length, 13);
});

for (const [file, want] of Object.entries(EXPECTED)) {
  test(`reads ${file}`, async () => {
    const got = await read(file, want.url);
    const pick = (o) => Object.fromEntries(FIELDS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
    assert.deepEqual(pick(got), pick(want));
  });
}

test('a page seen after navigating inside the app is read, not the previous one\'s structured data', async () => {
  // The guest page of one person served at another person's URL: its JSON-LD is about
  // someone else, so the name comes from the page's heading and no company is taken from it.
  const got = await read('profile-guest-2024-04-sri-lalitha-jeevanige.html', 'https://www.linkedin.com/in/someone-else');
  assert.equal(got.name, 'Sri Lalitha Jeevanige');
  assert.equal(got.company, 'Swedbank', 'from the top card\'s current-company link');
  assert.equal(got.company_url, 'https://www.linkedin.com/company/swedbank');
});
