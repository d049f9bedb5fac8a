// Browser test of certfleet's web UI: playwright-core driving Debian's chromium
// (/usr/bin/chromium; playwright never downloads a browser here). Started by the Rust
// e2e test tests/e2e/ui.rs against a running `certfleet serve`, with these variables:
//
//   CERTFLEET_UI_URL          https://ADMIN_ADDRESS of the admin listener
//   CERTFLEET_UI_TOKEN_FILE   DATA_DIR/admin.token (read here; never printed)
//   CERTFLEET_UI_DOMAIN       the domain to add through the UI
//   CERTFLEET_UI_BUNDLE       a merged key + certificate + chain for it
//   CERTFLEET_UI_BAD_BUNDLE   a bundle whose key does not match its certificate
//   CERTFLEET_UI_SHA1         the SHA-1 thumbprint of the bundle's certificate
//   CERTFLEET_UI_P12          where to save the PKCS#12 download
//   CERTFLEET_UI_PEM          where to save the PEM download
//   CERTFLEET_UI_P12_PASSWORD the keystore password to type
//   CERTFLEET_UI_SCREENSHOTS  the directory for screenshots
//   CERTFLEET_UI_PLAYWRIGHT   playwright-core's index.mjs
//
// It logs in and adds the domain by keyboard only, pastes a bad bundle (the error is
// shown) and the good one by keyboard, checks the domain page shows the thumbprint,
// downloads the certificate as PKCS#12 with the password (by keyboard) and as PEM,
// visits every page at 1280 and 390 px wide, then makes a CA on the CA page by keyboard
// (a bad CSR is refused there), issues the domain's certificate from it and sees the
// served thumbprint change (the platform's apply confirmed in its dialog by keyboard);
// last it moves a domain under another and deletes that one
// from its page, dismissing the confirmation once (which names both) and accepting it
// then. On every page: no console errors, no page errors, no
// horizontal overflow, a skip link first in the tab order and a visible focus on every
// tab stop. Exits 1 with the reasons on failure.

import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`ui.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const base = need('CERTFLEET_UI_URL');
const token = readFileSync(need('CERTFLEET_UI_TOKEN_FILE'), 'utf8').trim();
const domain = need('CERTFLEET_UI_DOMAIN');
const platform = need('CERTFLEET_UI_PLATFORM');
const bundle = readFileSync(need('CERTFLEET_UI_BUNDLE'), 'utf8');
const badBundle = readFileSync(need('CERTFLEET_UI_BAD_BUNDLE'), 'utf8');
const sha1 = need('CERTFLEET_UI_SHA1');
const p12Path = need('CERTFLEET_UI_P12');
const pemPath = need('CERTFLEET_UI_PEM');
const p12Password = need('CERTFLEET_UI_P12_PASSWORD');
const shots = need('CERTFLEET_UI_SCREENSHOTS');
const { chromium } = await import(pathToFileURL(need('CERTFLEET_UI_PLAYWRIGHT')).href);

mkdirSync(shots, { recursive: true });
const failures = [];
const problems = []; // console and page errors, with the page they happened on
let expectedErrors = null; // a RegExp of console errors a step provokes on purpose

function check(condition, message) {
  if (!condition) {
    failures.push(message);
    console.log(`FAIL ${message}`);
  }
}

function step(message) {
  console.log(`ui: ${message}`);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  // playwright gives every launch a fresh temporary profile (--user-data-dir).
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});

function watch(page) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (expectedErrors && expectedErrors.test(msg.text())) return;
    problems.push(`console error on ${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
}

async function newPage(width) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, // the admin listener serves the installation's default certificate
    acceptDownloads: true,
    viewport: { width, height: 900 },
  });
  const page = await context.newPage();
  watch(page);
  return page;
}

// Presses Tab until the element matching `selector` has the focus (keyboard only).
async function tabTo(page, selector, limit = 30) {
  for (let i = 0; i < limit; i += 1) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) {
      return;
    }
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector} on ${page.url()}`);
}

// Layout checks of the page as it is: no horizontal scrolling, then a screenshot.
async function layout(page, name, width) {
  await page.setViewportSize({ width, height: 900 });
  await page.waitForLoadState('load');
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  check(scrollWidth <= innerWidth, `${name} at ${width} px scrolls sideways (${scrollWidth} > ${innerWidth})`);
  await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
}

// The skip link is the first tab stop and has a visible focus; every further tab stop
// (navigation, then the page's content) shows where the focus is and is on screen; the
// skip link moves the focus to the main content.
async function keyboardBasics(page, name) {
  const blur = () => page.evaluate(() => document.activeElement && document.activeElement.blur());
  await blur();
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => ({
    skip: document.activeElement.classList.contains('skip-link'),
    outline: getComputedStyle(document.activeElement).outlineStyle,
  }));
  check(first.skip, `${name}: the first tab stop is not the skip link`);
  check(first.outline !== 'none', `${name}: the focused skip link has no visible outline`);
  const seen = new Set();
  for (let i = 0; i < 80; i += 1) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      const text = (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30);
      const label = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${text}"`;
      return {
        label,
        key: label + (box.top + window.scrollY),
        visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
        onScreen: box.width > 0 && box.height > 0,
      };
    });
    if (!stop || seen.has(stop.key)) break; // past the last stop
    seen.add(stop.key);
    check(stop.visible, `${name}: no visible focus on ${stop.label}`);
    check(stop.onScreen, `${name}: the focus is on an invisible element ${stop.label}`);
  }
  check(seen.size > 0, `${name}: nothing to tab to after the skip link`);
  step(`${name}: ${seen.size} tab stops after the skip link, each with a visible focus`);
  await page.reload(); // the focus starting point back at the top
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  const inMain = await page.evaluate(() => document.activeElement.id === 'main');
  check(inMain, `${name}: the skip link does not move the focus to the main content`);
}

try {
  // --- log in, keyboard only -------------------------------------------------------
  const page = await newPage(1280);
  await page.goto(`${base}/`);
  check(new URL(page.url()).pathname === '/ui/login', `/ without a session went to ${page.url()}`);
  await keyboardBasics(page, 'login');
  // A wrong token is refused with a message (the 401 it provokes is expected).
  expectedErrors = /status of 401/;
  await tabTo(page, '#token');
  await page.keyboard.type('not-the-token');
  await page.keyboard.press('Enter');
  const refused = page.locator('#login-form [data-role=error]');
  await refused.waitFor({ state: 'visible' });
  check((await refused.textContent()).includes('not the admin token'), 'a wrong token is not reported');
  expectedErrors = null;
  check(await page.evaluate(() => document.activeElement.id === 'token'), 'the focus left the token field after a refusal');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/ui/`);
  step('logged in by keyboard');
  check((await page.textContent('h1')).includes('Expiry dashboard'), 'the dashboard did not open after login');
  check(await page.locator('svg.timeline-svg').isVisible(), 'the dashboard has no timeline');

  // --- add the domain, keyboard only ------------------------------------------------
  await page.goto(`${base}/ui/domains`);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await tabTo(page, '#domain-name');
  await page.keyboard.type(domain);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/ui/domains/${encodeURIComponent(domain)}`);
  step(`added ${domain} by keyboard`);

  // --- a bundle whose key does not match: the server's reason is shown --------------
  expectedErrors = /status of 400/;
  await page.fill('#bundle-pem', badBundle);
  await page.click('#bundle-form button[type=submit]');
  const error = page.locator('#bundle-form [data-role=error]');
  await error.waitFor({ state: 'visible' });
  const errorText = await error.textContent();
  check(/key/i.test(errorText), `the bad bundle's error does not mention the key: ${errorText}`);
  expectedErrors = null;
  step(`bad bundle refused: ${errorText}`);
  await page.screenshot({ path: join(shots, 'domain-bad-bundle-1280.png'), fullPage: true });

  // --- the good bundle --------------------------------------------------------------
  // By keyboard: into the text box, replace its text with the paste, on to the button.
  await tabTo(page, '#bundle-pem');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.insertText(bundle);
  await tabTo(page, '#bundle-form button[type=submit]');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\?stored=1$/);
  const own = (await page.textContent('#own-sha1')).trim();
  const served = (await page.textContent('#effective-sha1')).trim();
  check(own === sha1, `the domain page shows own thumbprint ${own}, not ${sha1}`);
  check(served === sha1, `the domain page shows served thumbprint ${served}, not ${sha1}`);
  check(!(await page.content()).includes('PRIVATE KEY'), 'the domain page holds key material');
  step(`bundle stored; the page shows ${own}`);

  // --- downloads ----------------------------------------------------------------------
  // PKCS#12 by keyboard: the format with the arrow keys, the password, Enter.
  await tabTo(page, '#export-format');
  for (let i = 0; i < 4 && (await page.inputValue('#export-format')) !== 'pkcs12'; i += 1) {
    await page.keyboard.press('ArrowDown');
  }
  check((await page.inputValue('#export-format')) === 'pkcs12', 'the arrow keys did not choose PKCS#12');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.id === 'export-password'), 'Tab from the format did not reach the password');
  await page.keyboard.type(p12Password);
  const [p12] = await Promise.all([
    page.waitForEvent('download'),
    page.keyboard.press('Enter'),
  ]);
  await p12.saveAs(p12Path);
  check(p12.suggestedFilename().endsWith('.p12'), `the PKCS#12 download is named ${p12.suggestedFilename()}`);
  await page.selectOption('#export-format', 'pem');
  const [pem] = await Promise.all([
    page.waitForEvent('download'),
    page.click('#export-form button[type=submit]'),
  ]);
  await pem.saveAs(pemPath);
  const pemText = readFileSync(pemPath, 'utf8');
  check(pemText.includes('BEGIN CERTIFICATE') && !pemText.includes('PRIVATE KEY'), 'the PEM download is not certificates only');
  step(`downloaded ${p12.suggestedFilename()} and ${pem.suggestedFilename()}`);

  // --- every page at both widths ----------------------------------------------------
  const pages = [
    ['dashboard', '/ui/'],
    ['domains', '/ui/domains'],
    ['domain', `/ui/domains/${encodeURIComponent(domain)}`],
    ['trust', '/ui/trust'],
    ['audit', '/ui/audit'],
    ['platforms', '/ui/platforms'],
    ['platform', `/ui/platforms/${encodeURIComponent(platform)}`],
    ['nodes', '/ui/nodes'],
    ['not-found', '/ui/domains/no-such-domain.test'],
  ];
  for (const width of [1280, 390]) {
    for (const [name, path] of pages) {
      // The unknown domain's page is a 404, which the console reports.
      expectedErrors = name === 'not-found' ? /status of 404/ : null;
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${base}${path}`);
      await layout(page, name, width);
      await keyboardBasics(page, `${name} at ${width} px`);
      expectedErrors = null;
    }
  }
  const tree = await page.goto(`${base}/ui/domains`).then(() => page.textContent('.tree'));
  check(tree.includes(domain) && tree.includes('own certificate'), 'the tree does not show the domain with its own certificate');
  await page.goto(`${base}/ui/trust`);
  const graph = await page.textContent('main');
  check(graph.includes('CN=UiTest Root') && graph.includes(`served for domain ${domain}`), 'the trust graph lacks the CA or the domain');
  await page.goto(`${base}/ui/nodes`);
  const nodes = await page.textContent('main');
  check(nodes.includes(`${platform} / `) && nodes.includes('unseen'), 'the nodes page does not list the platform\'s nodes, unseen before any agent reported');
  // A node's enrolment token, made from its form: the line to run on the node appears once.
  await page.click('form.node-token-form button[type="submit"]');
  const line = page.locator('form.node-token-form [data-role="line"]').first();
  await line.waitFor({ state: 'visible' });
  const enrol = await line.inputValue();
  check(/^certfleet agent enroll --server https:\/\/\S+ --token cfa1\.\S+$/.test(enrol), `the enrolment line is not what the node should run: ${enrol}`);
  step(`enrol line: ${enrol}`);
  await page.goto(`${base}/ui/audit`);
  const audit = await page.textContent('main');
  for (const action of ['domain.add', 'domain.set-cert', 'domain.export']) {
    check(audit.includes(action), `the audit log lacks ${action}`);
  }
  check(!audit.includes(p12Password), 'the audit log shows the keystore password');
  check(audit.includes('ui-session'), 'the audit log does not name the UI session as the actor of its changes');

  // --- a platform model applied from its page, by keyboard ---------------------------
  await page.goto(`${base}/ui/platforms`);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await tabTo(page, `a[href="/ui/platforms/${platform}"]`);
  await Promise.all([page.waitForURL(`${base}/ui/platforms/${platform}`), page.keyboard.press('Enter')]);
  const boxes = await page.locator('.platform-graph g.node').count();
  const arrows = await page.locator('.platform-graph g.edge').count();
  check(boxes >= 2 && arrows >= 1, `the platform's trust graph has ${boxes} services and ${arrows} connections`);
  check((await page.textContent('main')).includes('issue'), 'the platform page lists no pending issue before the apply');
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await tabTo(page, '#platform-run-form button[value="apply"]');
  await page.keyboard.press('Enter');
  // Apply asks first, naming the platform; the focus starts on Cancel, Tab reaches Apply.
  const confirmation = page.locator('#apply-dialog');
  await confirmation.waitFor({ state: 'visible' });
  check((await confirmation.textContent()).includes(`Apply platform ${platform}?`), 'the apply confirmation does not name the platform');
  check(await page.evaluate(() => document.activeElement.value === 'cancel'), 'the apply confirmation does not start on Cancel');
  await page.keyboard.press('Tab');
  await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
  await page.waitForSelector('#platform-run-form [data-role="ok"]:not([hidden])');
  const outcome = await page.textContent('#platform-run-form [data-role="ok"]');
  check(/^Applied: \d+ change\(s\), \d+ file\(s\) written/.test(outcome), `the apply's outcome reads: ${outcome}`);
  // Reloads are off for this platform (run_reloads = false): only they stay pending.
  const left = await page.locator('td[data-label="Action"]').allTextContents();
  check(left.length > 0 && left.every((action) => action === 'reload'), `after the apply the platform page lists ${left.join(', ')}`);
  step(`applied platform ${platform}: ${outcome}`);
  await page.goto(`${base}/ui/audit`);
  check((await page.textContent('main')).includes('platform.apply'), 'the audit log lacks platform.apply');

  // --- a CA made on its page, then the domain's certificate issued from it ----------
  await page.goto(`${base}/ui/cas`);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await tabTo(page, '#ca-name');
  await page.keyboard.type('uica');
  await page.keyboard.press('Tab');
  await page.keyboard.type('UI Browser Root');
  await page.keyboard.press('Tab');
  await page.keyboard.type('UI Browser Issuing');
  await tabTo(page, '#ca-days');
  await page.keyboard.press('Enter');
  await page.waitForSelector('text=UI Browser Issuing');
  check((await page.textContent('main')).includes('uica'), 'the CA page does not list the new CA');
  check(await page.isVisible('#sign-csr-form'), 'the CA page offers no CSR signing once a CA exists');
  expectedErrors = /status of 400/;
  await page.fill('#sign-csr', 'not a csr');
  // Leaving the field asks the server what the CSR is; its answer appears above the
  // button, so wait for it before clicking (a click while the form grows misses).
  await page.keyboard.press('Tab');
  await page.waitForSelector('#sign-csr-form [data-role="csr"]:not([hidden])');
  await page.click('#sign-csr-form button[type=submit]');
  await page.waitForSelector('#sign-csr-form [data-role="error"]:not([hidden])');
  expectedErrors = null;
  step('CA made on the CA page; a bad CSR is refused with a message');
  for (const width of [1280, 390]) {
    await page.goto(`${base}/ui/cas`);
    await layout(page, 'cas', width);
    await keyboardBasics(page, `cas at ${width} px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${base}/ui/domains/${encodeURIComponent(domain)}`);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await tabTo(page, '#issue-ca');
  check((await page.inputValue('#issue-ca')) === 'uica', 'the issue form does not offer the CA');
  await tabTo(page, '#issue-days');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\?stored=1$/);
  const issued = (await page.textContent('#own-sha1')).trim();
  const servedNow = (await page.textContent('#effective-sha1')).trim();
  check(issued !== sha1, 'issuing from the CA did not change the domain\'s certificate');
  check(servedNow === issued, `the served thumbprint ${servedNow} is not the issued ${issued}`);
  check((await page.textContent('main')).includes('CN=UI Browser Issuing'), 'the issued chain does not name the CA');
  check(!(await page.content()).includes('PRIVATE KEY'), 'the domain page holds key material');
  await page.goto(`${base}/ui/audit`);
  const caAudit = await page.textContent('main');
  for (const action of ['ca.create', 'ca.issue', 'domain.issue']) {
    check(caAudit.includes(action), `the audit log lacks ${action}`);
  }
  step(`issued from the CA; the domain now serves ${issued}`);

  // --- a domain moved and deleted from its page; the deletion asks first ------------
  for (const name of ['gone.ui.test', 'child.ui.test']) {
    await page.goto(`${base}/ui/domains`);
    await page.fill('#domain-name', name);
    await Promise.all([
      page.waitForURL(`${base}/ui/domains/${name}`),
      page.click('#add-domain-form button[type="submit"]'),
    ]);
  }
  // The new parent is found by typing part of its name; the suggestions come from the server.
  await page.locator('#move-parent').pressSequentially('gone', { delay: 20 });
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#move-parent-choices option')).some((o) => o.value === 'gone.ui.test'));
  await page.fill('#move-parent', 'gone.ui.test');
  await Promise.all([page.waitForEvent('load'), page.click('#move-form button[type="submit"]')]);
  check((await page.textContent('.crumbs')).includes('gone.ui.test'), 'after the move the page does not show the new parent');
  await page.goto(`${base}/ui/domains/gone.ui.test`);
  const questions = [];
  // The first confirmation is dismissed (nothing is deleted), the second accepted.
  const answer = (dialog) => {
    questions.push(dialog.message());
    return questions.length === 1 ? dialog.dismiss() : dialog.accept();
  };
  page.on('dialog', answer);
  await page.click('#delete-form button[type="submit"]');
  await page.waitForFunction(() => !document.querySelector('#delete-form[aria-busy]'));
  check(questions.length === 1 && new URL(page.url()).pathname === '/ui/domains/gone.ui.test', 'a dismissed confirmation did not keep the domain');
  await Promise.all([page.waitForURL(`${base}/ui/domains`), page.click('#delete-form button[type="submit"]')]);
  page.off('dialog', answer);
  check(
    questions.length === 2 && questions[0].includes('Delete the domain gone.ui.test and the 1 domain below it (child.ui.test)?'),
    `the delete confirmation reads: ${questions[0]}`,
  );
  const treeAfter = await page.textContent('.tree');
  check(!treeAfter.includes('gone.ui.test') && !treeAfter.includes('child.ui.test') && treeAfter.includes(domain), 'the tree after the deletion is wrong');
  await page.goto(`${base}/ui/audit`);
  const lifecycleAudit = await page.textContent('main');
  for (const action of ['domain.move', 'domain.delete']) {
    check(lifecycleAudit.includes(action), `the audit log lacks ${action}`);
  }
  step('moved a domain and deleted its parent with it from the domain page, after a confirmation');

  // --- log out; the login page at both widths (no session) --------------------------
  await page.click('#logout-form button');
  await page.waitForURL(`${base}/ui/login`);
  await page.goto(`${base}/ui/domains`);
  check(new URL(page.url()).pathname === '/ui/login', 'after logout a page did not send to the login');
  for (const width of [1280, 390]) {
    await page.goto(`${base}/ui/login`);
    await layout(page, 'login', width);
  }
  step('logged out');
} catch (err) {
  failures.push(`the test stopped: ${err.stack || err}`);
} finally {
  await browser.close();
}

for (const problem of problems) check(false, problem);
if (failures.length > 0) {
  console.error(`ui.mjs: ${failures.length} failure(s):\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`ui.mjs: all checks passed; screenshots in ${shots}`);
