/**
 * Takes the picture of the dashboard in docs/observability.md: run `npm start` (with
 * RINGMASTER_HTTP_TOKEN set, so the actions show enabled), let it trade for a
 * minute or two, then in another terminal
 *
 *   RINGMASTER_HTTP_TOKEN=… node dist/examples/trading/screenshot.js [url] [file]
 *
 * url defaults to http://127.0.0.1:9464/, file to examples/trading/dashboard.png.
 * It drives Debian's chromium (/usr/bin/chromium) headless with playwright-core.
 */
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const url = process.argv[2] ?? 'http://127.0.0.1:9464/';
const file = process.argv[3] ?? fileURLToPath(new URL('../../../examples/trading/dashboard.png', import.meta.url));
const token = process.env.RINGMASTER_HTTP_TOKEN;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1280 } });
  page.setDefaultTimeout(30_000);
  await page.goto(`${url}#risk`);
  await page.waitForSelector('.node[data-id="risk"].selected');
  if (token) {
    await page.fill('#token-input', token);
    await page.click('#token-use');
    await page.click('#action-message'); // moves the focus off the token box
  }
  // Enough of a timeline to show, and the charts drawn from the history.
  await page.waitForFunction(`document.querySelectorAll('#timeline li').length >= 12`);
  await page.waitForSelector('#chart-rate .uplot');
  await page.screenshot({ path: file });
  console.log(`saved ${file}`);
} finally {
  await browser.close();
}
