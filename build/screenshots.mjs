// Takes the README's studio screenshots with Debian's headless chromium over the DevTools protocol (no browser
// download, no npm package): node build/screenshots.mjs BASE_URL RUN_ID OUTDIR [WORKFLOW]
// Each page is waited for by what it shows (nodes laid out, charts drawn); a page that never gets there fails the
// script naming what was missing, so a broken studio cannot produce a picture of a blank page.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, runId, outDir, workflow = 'iterate'] = process.argv.slice(2);
if (!base || !runId || !outDir) {
  console.error('usage: node build/screenshots.mjs BASE_URL RUN_ID OUTDIR [WORKFLOW]');
  process.exit(2);
}
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT_MS = 90_000;

const profile = mkdtempSync(join(tmpdir(), 'posttrain-shots-'));
const browser = spawn(chromium, [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--hide-scrollbars', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'] });

const stop = () => { browser.kill('SIGTERM'); try { rmSync(profile, { recursive: true, force: true }); } catch { /* it is a temp dir */ } };
// However the script ends (an exception included), the browser it started goes with it.
process.on('exit', () => browser.kill('SIGTERM'));
process.on('uncaughtException', (e) => fail(e.message));
const fail = (message) => { console.error(`screenshots: ${message}`); stop(); process.exit(1); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const endpoint = await new Promise((resolve, reject) => {
  let text = '';
  const timer = setTimeout(() => reject(new Error(`${chromium} printed no DevTools address in 30 s: ${text}`)), 30_000);
  browser.stderr.on('data', (d) => {
    text += d;
    const m = /DevTools listening on (ws:\/\/[^\s]+)/.exec(text);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
  browser.on('exit', (code) => reject(new Error(`${chromium} exited (${code}): ${text}`)));
}).catch((e) => fail(e.message));

const port = new URL(endpoint).port;
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const page = targets.find((t) => t.type === 'page');
if (!page) fail('chromium opened no page');

const socket = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = () => reject(new Error('cannot reach chromium')); }).catch((e) => fail(e.message));
let next = 0;
const waiting = new Map();
socket.onmessage = (event) => {
  const m = JSON.parse(event.data);
  if (m.id && waiting.has(m.id)) {
    const { resolve, reject } = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error) reject(new Error(`${m.error.message}`)); else resolve(m.result);
  }
};
const send = (method, params = {}) => new Promise((resolve, reject) => {
  const id = ++next;
  waiting.set(id, { resolve, reject });
  socket.send(JSON.stringify({ id, method, params }));
});
const evaluate = async (expression) => (await send('Runtime.evaluate', { expression, returnByValue: true })).result.value;

async function waitFor(what, expression) {
  const until = Date.now() + WAIT_MS;
  while (Date.now() < until) {
    if (await evaluate(expression).catch(() => false)) return;
    await sleep(250);
  }
  fail(`${what}: not there after ${WAIT_MS / 1000} s (${expression})`);
}

async function shot(file, hash, width, height, ready) {
  await send('Emulation.setDeviceMetricsOverride', { width, height: height === 'page' ? 1000 : height, deviceScaleFactor: 1, mobile: false });
  await send('Page.navigate', { url: `${base.replace(/\/$/, '')}/${hash}` });
  await sleep(300);
  for (const [what, expression] of ready) await waitFor(what, expression);
  if (height === 'page') {
    // Tall enough for the whole monitor: graph, steps, charts, lineage.
    const full = await evaluate("Math.min(6000, document.querySelector('header').offsetHeight + document.querySelector('.monitor').scrollHeight + 8)");
    await send('Emulation.setDeviceMetricsOverride', { width, height: full, deviceScaleFactor: 1, mobile: false });
  }
  await sleep(1200); // React Flow's fit-view after a resize
  const { data } = await send('Page.captureScreenshot', { format: 'png' });
  writeFileSync(join(outDir, file), Buffer.from(data, 'base64'));
  console.log(`wrote ${join(outDir, file)}`);
}

const exists = (selector) => `!!document.querySelector(${JSON.stringify(selector)})`;
process.on('unhandledRejection', (e) => fail(e instanceof Error ? e.message : String(e)));
await send('Page.enable');
await send('Runtime.enable');
await shot('studio-designer.png', `#/designer/${encodeURIComponent(workflow)}`, 1600, 1000, [
  ['the designer canvas', `document.querySelectorAll('[data-testid=canvas] .react-flow__node').length > 0`],
  ['the validation', `/valid|problem/.test(document.querySelector('[data-testid=validity]')?.textContent ?? '') && !/validating/.test(document.querySelector('[data-testid=validity]').textContent)`],
]);
const monitor = [
  ['the run monitor', exists('[data-testid=run-monitor][data-run-state]')],
  ['the run graph', `document.querySelectorAll('[data-testid=run-canvas] .react-flow__node').length > 0`],
  ['the charts', `${exists('[data-testid=charts]')} || ${exists('[data-testid=no-metrics]')}`],
  ['the lineage', `document.querySelectorAll('[data-testid=lineage-canvas] .react-flow__node').length > 0 || ${exists('[data-testid=no-checkpoints]')}`],
];
await shot('studio-run-monitor.png', `#/runs/${runId}`, 1600, 1000, monitor);
await shot('studio-run-monitor-iterate.png', `#/runs/${runId}`, 1600, 'page', monitor);
socket.close();
stop();
