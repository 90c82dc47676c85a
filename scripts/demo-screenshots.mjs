#!/usr/bin/env node
// Regenerates the README's screenshots of the demo page (docs/demo-desktop.png, docs/demo-phone.png): a short
// training run in headless Chromium (Debian's chromium, or RNNKIT_CHROMIUM), then a sample. Needs npm run build.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startDemoServer } from './demo-server.mjs';

const executablePath = process.env.RNNKIT_CHROMIUM ?? '/usr/bin/chromium';
const { server, url } = await startDemoServer({ port: 0 });
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
mkdirSync(new URL('../docs', import.meta.url), { recursive: true });
try {
  for (const [name, viewport] of [
    ['desktop', { width: 1280, height: 900 }],
    ['phone', { width: 390, height: 844 }],
  ]) {
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
    await page.goto(url);
    await page.evaluate(() => window.rnnkitDemo.ready);
    await page.selectOption('#hidden', '128');
    await page.fill('#steps', '300');
    await page.click('#train');
    await page.waitForFunction(() => window.rnnkitDemo.state.finished, null, { timeout: 600_000, polling: 500 });
    await page.fill('#sample-length', '240');
    await page.click('#sample');
    await page.screenshot({ path: new URL(`../docs/demo-${name}.png`, import.meta.url).pathname, fullPage: true });
    console.log(`docs/demo-${name}.png`);
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
