// Browser test of certfleet's web UI with ten thousand domains: playwright-core driving
// Debian's chromium, started by tests/e2e/ui_scale.rs against a running
// `certfleet serve` whose store holds the domains, with these variables:
//
//   CERTFLEET_UI_URL          https://ADMIN_ADDRESS of the admin listener
//   CERTFLEET_UI_TOKEN_FILE   DATA_DIR/admin.token (read here; never printed)
//   CERTFLEET_UI_FIND         a domain the search must find, alone
//   CERTFLEET_UI_EXPIRING     the domains (comma-separated) whose certificates end within
//                             the warning window: the warning filter shows exactly these
//   CERTFLEET_UI_GROUP        a domain with many children (closed in the tree at first)
//   CERTFLEET_UI_PLATFORM     a platform (the interaction-recording example)
//   CERTFLEET_UI_SERVICES     its services (comma-separated)
//   CERTFLEET_UI_SCREENSHOTS  the directory for screenshots
//   CERTFLEET_UI_PLAYWRIGHT   playwright-core's index.mjs
//
// It measures every page (bytes of HTML and the time to the last byte, printed; the
// size must stay under 2 MB), searches for a domain, filters the expiring ones, pages
// through the tree and opens a closed subtree, adds a domain under a parent picked by
// typing part of its name, reads the certificate changes old → new (and who made them)
// in the audit log, follows a dashboard tile, checks the trust graph's geometry
// (every service's name drawn at 12 px or more, every edge and label inside the frame),
// zooms it, and cancels an apply from its confirmation dialog. Screenshots of each step,
// in light and dark mode. Exits 1 with the reasons on failure.

import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`scale.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const base = need('CERTFLEET_UI_URL');
const token = readFileSync(need('CERTFLEET_UI_TOKEN_FILE'), 'utf8').trim();
const find = need('CERTFLEET_UI_FIND');
const expiring = need('CERTFLEET_UI_EXPIRING').split(',');
const group = need('CERTFLEET_UI_GROUP');
const platform = need('CERTFLEET_UI_PLATFORM');
const services = need('CERTFLEET_UI_SERVICES').split(',');
const shots = need('CERTFLEET_UI_SCREENSHOTS');
const { chromium } = await import(pathToFileURL(need('CERTFLEET_UI_PLAYWRIGHT')).href);

const MAX_HTML = 2 * 1024 * 1024;
mkdirSync(shots, { recursive: true });
const failures = [];
const problems = [];

function check(condition, message) {
  if (!condition) {
    failures.push(message);
    console.log(`FAIL ${message}`);
  }
}

function step(message) {
  console.log(`scale: ${message}`);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// The names of the domain rows shown.
async function rowNames(page) {
  return page.locator('.tree a.domain-link').allTextContents();
}

try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error on ${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));

  // --- log in --------------------------------------------------------------------
  await page.goto(`${base}/ui/login`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${base}/ui/`), page.press('#token', 'Enter')]);

  // --- every page's size and time (the session's cookie goes with each request) ----
  const measured = [
    '/ui/',
    '/ui/domains',
    '/ui/domains?page=2',
    `/ui/domains?open=${encodeURIComponent(group)}`,
    `/ui/domains?q=${encodeURIComponent(find)}`,
    '/ui/domains?state=warning',
    '/ui/domains?state=mismatch',
    '/ui/domains?state=mismatch&page=100',
    `/ui/domains/${encodeURIComponent(find)}`,
    `/ui/domains/${encodeURIComponent(group)}`,
    `/ui/parents?q=${encodeURIComponent(group.slice(0, 3))}`,
    '/ui/trust',
    '/ui/audit',
    '/ui/platforms',
    `/ui/platforms/${encodeURIComponent(platform)}`,
    '/ui/nodes',
  ];
  for (const path of measured) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      const response = await page.request.get(`${base}${path}`, { maxRedirects: 0 });
      const body = await response.body();
      times.push(performance.now() - started);
      bytes = body.length;
      check(response.status() === 200, `${path} answered ${response.status()}`);
    }
    times.sort((a, b) => a - b);
    console.log(`measure: ${path} ${bytes} bytes, median ${times[1].toFixed(0)} ms (of 3: ${times.map((t) => t.toFixed(0)).join(', ')})`);
    check(bytes < MAX_HTML, `${path} is ${bytes} bytes of HTML, over 2 MB`);
  }

  // --- the tree: paged, the big subtrees closed, one opened ------------------------
  await page.goto(`${base}/ui/domains`);
  const firstPage = await rowNames(page);
  check(firstPage.length > 0 && firstPage.length <= 100, `the first page shows ${firstPage.length} rows`);
  check(!firstPage.some((n) => n.endsWith(`.${group}`)), `the tree shows ${group}'s children before it is opened`);
  await shot(page, 'domains-tree');
  const pageTwo = page.locator('nav.pager a', { hasText: /^2$/ });
  check((await pageTwo.count()) === 1, 'the tree has no link to page 2');
  await Promise.all([page.waitForURL(/page=2/), pageTwo.click()]);
  const secondPage = await rowNames(page);
  check(secondPage.length > 0 && secondPage.every((n) => !firstPage.includes(n)), 'page 2 repeats page 1');
  // The group's row offers to open it; its link shows its children.
  await page.goto(`${base}/ui/domains`);
  const opener = page.locator(`li[id="d-${group}"] a.toggle`);
  check((await opener.getAttribute('aria-expanded')) === 'false', `${group} is not closed at first`);
  await Promise.all([page.waitForURL(/open=/), opener.click()]);
  let opened = await rowNames(page);
  if (!opened.some((n) => n.endsWith(`.${group}`))) {
    // The group may sit on a later page of the tree: find it by its page links.
    for (const link of await page.locator('nav.pager a').all()) {
      await Promise.all([page.waitForLoadState('load'), link.click()]);
      opened = await rowNames(page);
      if (opened.some((n) => n.endsWith(`.${group}`))) break;
    }
  }
  check(opened.some((n) => n.endsWith(`.${group}`)), `opening ${group} shows none of its children`);
  step(`tree: ${firstPage.length} rows on page 1, ${secondPage.length} on page 2; ${group} opened`);
  await shot(page, 'domains-opened');

  // --- search ------------------------------------------------------------------------
  await page.goto(`${base}/ui/domains`);
  await page.fill('#search-q', find.toUpperCase());
  await Promise.all([page.waitForURL(/q=/), page.press('#search-q', 'Enter')]);
  const found = await rowNames(page);
  check(found.length === 1 && found[0] === find, `searching for ${find} shows ${found.join(', ')}`);
  check((await page.textContent('#list-summary')).includes('1 of'), 'the search does not say 1 match');
  step(`search found ${found.join(', ')}`);
  await shot(page, 'domains-search');

  // --- the warning filter ---------------------------------------------------------
  await page.goto(`${base}/ui/domains`);
  await page.selectOption('#search-state', 'warning');
  await Promise.all([page.waitForURL(/state=warning/), page.click('#domain-search-form button[type="submit"]')]);
  const warned = await rowNames(page);
  check(
    warned.length === expiring.length && expiring.every((n) => warned.includes(n)),
    `the warning filter shows ${warned.join(', ')}, not ${expiring.join(', ')}`,
  );
  const badges = await page.locator('.tree .badge.state-warning').count();
  check(badges === expiring.length, `${badges} warning badges for ${expiring.length} expiring domains`);
  const days = await page.locator('.tree .days').allTextContents();
  check(days.length === expiring.length && days.every((d) => /\d+ days left/.test(d)), `the days left read ${days.join(', ')}`);
  step(`the warning filter shows ${warned.join(', ')}`);
  await shot(page, 'domains-warning');
  const thumbprints = await page.locator('.tree dd.mono').allTextContents();

  // --- the audit log: each certificate set shows old → new and who set it ------------
  await page.goto(`${base}/ui/audit`);
  // Each change's cell reads "certificate OLD → NEW" on screen (with "from" and "to" for
  // screen readers).
  const changes = (await page.locator('tr', { has: page.locator('.thumb-change') }).allTextContents())
    .map((text) => text.replace(/\s+/g, ' '));
  for (const thumbprint of thumbprints.map((t) => t.trim())) {
    const row = changes.find((text) => text.includes(thumbprint));
    check(
      row && row.includes(`from none→ to ${thumbprint}`) && row.includes('domain.set-cert'),
      `the audit log does not show none → ${thumbprint}: ${row}`,
    );
  }
  const who = await page.locator('tr:has(.thumb-change) td[data-label="Who"]').allTextContents();
  check(who.length >= thumbprints.length && who.every((w) => w.trim().length > 0), `the certificate changes do not say who made them: ${who.join(', ')}`);
  step(`the audit log shows ${changes.length} certificate changes old → new, by ${[...new Set(who)].join(', ')}`);
  await shot(page, 'audit');

  // --- the dashboard's warning tile leads to the same list -------------------------
  await page.goto(`${base}/ui/`);
  const tile = page.locator('a.count.state-warning');
  check((await tile.locator('.number').textContent()).trim() === String(expiring.length), 'the warning tile counts wrong');
  await Promise.all([page.waitForURL(/\/ui\/domains\?state=warning$/), tile.click()]);
  check((await rowNames(page)).length === expiring.length, 'the warning tile does not lead to the expiring domains');
  await page.goto(`${base}/ui/`);
  await shot(page, 'dashboard');

  // --- add a domain under a parent picked by typing part of its name ----------------
  await page.goto(`${base}/ui/domains`);
  const added = `added.${group}`;
  await page.fill('#domain-name', added);
  await page.locator('#domain-parent').pressSequentially(group.slice(0, group.indexOf('.')), { delay: 20 });
  await page.waitForFunction(
    (name) => Array.from(document.querySelectorAll('#parent-choices option')).some((o) => o.value === name),
    group,
    { timeout: 30000 },
  );
  await page.fill('#domain-parent', group);
  await Promise.all([page.waitForURL(`${base}/ui/domains/${added}`), page.click('#add-domain-form button[type="submit"]')]);
  check((await page.textContent('.crumbs')).includes(group), `the added domain is not under ${group}`);
  step(`added ${added} under ${group}, picked from the parent search`);

  // --- the trust graph: labels at 12 px or more, everything inside the frame -----
  await page.goto(`${base}/ui/platforms/${encodeURIComponent(platform)}`);
  const geometry = await page.evaluate(() => {
    const svg = document.querySelector('svg.platform-graph');
    const frame = svg.getBoundingClientRect();
    const scale = svg.getScreenCTM().a;
    const inside = (r) => r.left >= frame.left - 1 && r.right <= frame.right + 1 && r.top >= frame.top - 1 && r.bottom <= frame.bottom + 1;
    const texts = Array.from(svg.querySelectorAll('text')).map((t) => ({
      text: t.textContent,
      cls: t.getAttribute('class'),
      px: parseFloat(getComputedStyle(t).fontSize) * scale,
      height: t.getBoundingClientRect().height,
      inside: inside(t.getBoundingClientRect()),
    }));
    const paths = Array.from(svg.querySelectorAll('path.link')).map((p) => inside(p.getBoundingClientRect()));
    const boxes = Array.from(svg.querySelectorAll('g.node rect')).map((r) => inside(r.getBoundingClientRect()));
    const holder = svg.closest('.graph-frame').getBoundingClientRect();
    return { texts, paths, boxes, frame: { width: frame.width, height: frame.height }, fits: frame.right <= holder.right + 1 && frame.left >= holder.left - 1 };
  });
  const names = geometry.texts.filter((t) => t.cls === 'subject');
  for (const service of services) {
    const label = names.find((t) => t.text === service);
    check(label, `the trust graph has no label ${service}`);
    if (label) {
      check(label.px >= 12 && label.height >= 12, `${service}'s label is drawn at ${label.px.toFixed(1)} px (box ${label.height.toFixed(1)} px)`);
    }
  }
  for (const t of geometry.texts) {
    check(t.px >= 12, `the graph's text "${t.text}" is ${t.px.toFixed(1)} px`);
    check(t.inside, `the graph's text "${t.text}" leaves the frame`);
  }
  check(geometry.paths.length > 0 && geometry.paths.every(Boolean), `${geometry.paths.filter((p) => !p).length} of ${geometry.paths.length} edges leave the frame`);
  check(geometry.boxes.every(Boolean), 'a service box leaves the frame');
  check(geometry.fits, 'the trust graph is wider than its frame at 1280 px');
  step(`trust graph: ${names.length} services, ${geometry.paths.length} edges, ${geometry.frame.width.toFixed(0)}×${geometry.frame.height.toFixed(0)} px, smallest text ${Math.min(...geometry.texts.map((t) => t.px)).toFixed(1)} px`);
  await shot(page, 'platform-graph');
  const viewBox = () => page.getAttribute('svg.platform-graph', 'viewBox');
  const whole = await viewBox();
  await page.click('button[data-zoom-action="in"]');
  const zoomed = await viewBox();
  check(zoomed !== whole, 'zoom in did not change the view');
  await shot(page, 'platform-graph-zoomed');
  await page.click('button[data-zoom-action="fit"]');
  check((await viewBox()) === whole, 'fit did not show the whole graph again');

  // --- apply asks first; cancelling applies nothing --------------------------------
  const pendingBefore = await page.locator('td[data-label="Action"]').count();
  await page.click('#platform-run-form button[value="apply"]');
  const dialog = page.locator('#apply-dialog');
  await dialog.waitFor({ state: 'visible' });
  const question = await dialog.textContent();
  check(question.includes(`Apply platform ${platform}?`) && /\d+ change\(s\)/.test(question), `the apply dialog reads: ${question}`);
  await shot(page, 'platform-apply-dialog');
  await page.click('#apply-dialog button[value="cancel"]');
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForSelector('#platform-run-form [data-role="ok"]:not([hidden])');
  check((await page.textContent('#platform-run-form [data-role="ok"]')).includes('Not applied'), 'cancelling does not say nothing was applied');
  await page.reload();
  check((await page.locator('td[data-label="Action"]').count()) === pendingBefore, 'the pending changes changed after a cancelled apply');
  await page.goto(`${base}/ui/audit`);
  check(!(await page.textContent('main')).includes('platform.apply'), 'a cancelled apply was recorded');
  step(`apply asked first (${pendingBefore} pending changes) and a cancel applied nothing`);

  // --- dark mode -------------------------------------------------------------------
  await page.emulateMedia({ colorScheme: 'dark' });
  for (const [name, path] of [['domains', '/ui/domains?state=warning'], ['platform', `/ui/platforms/${encodeURIComponent(platform)}`], ['dashboard', '/ui/'], ['audit', '/ui/audit']]) {
    await page.goto(`${base}${path}`);
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const channels = (background.match(/\d+/g) || []).slice(0, 3).map(Number);
    check(channels.length === 3 && channels.every((c) => c < 60), `dark mode: ${name}'s background is ${background}`);
    await shot(page, `${name}-dark`);
  }
  step('dark mode follows prefers-color-scheme');
} catch (err) {
  failures.push(`the test stopped: ${err.stack || err}`);
} finally {
  await browser.close();
}

for (const problem of problems) check(false, problem);
if (failures.length > 0) {
  console.error(`scale.mjs: ${failures.length} failure(s):\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`scale.mjs: all checks passed; screenshots in ${shots}`);
