// The browser demo, end to end: builds the page (as `npm run demo:build` does: the production build,
// minified), serves it with Vite's preview server on 127.0.0.1, and drives it in headless Chromium,
// whose WebGPU runs on SwiftShader (a CPU implementation). The tiny size (?size=tiny) keeps
// SwiftShader's share to about a minute, most of it compiling the kernels for the first step. Controls
// are operated from the keyboard where a visitor could. Saves test-artifacts/demo.png.
//
// The second test compares the op counts the page saved for its training steps with the same recipe,
// seed and steps run in Node (the page's own Lane class on the Dawn adapter): equal counts by phase,
// layer, operation and format mean the minified bundle quantizes at the same points as the sources
// (the minifier renames classes, so nothing may depend on class names).
//
// Needs Debian's chromium (scripts/setup-system.sh installs it); CHROMIUM_PATH points elsewhere.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lane } from '../../demos/src/lane.ts';
import { settingsFromUrl, trainConfig } from '../../demos/src/settings.ts';
import { openNodeGpu } from '../../engine/device/node.ts';
import type { OpCountsFile } from '../../engine/record/schema.ts';
import { loadMnist } from '../../gan/data/mnist.ts';
import { expectRecords } from '../record/counts.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DEMOS = join(REPO, 'demos');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'test-artifacts');
/** The page's settings in both tests: the paper's recipe, at the size SwiftShader can train. */
const QUERY = 'size=tiny&model=cgan&recipe=p8%2B';

let outDir: string;
let profileDir: string;
let server: PreviewServer | undefined;
let context: BrowserContext | undefined;
let page: Page;
const consoleErrors: string[] = [];
/** What the first test's run saved from the page: its op counts and the number of training images. */
let saved: { counts: OpCountsFile; images: number } | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it (scripts/setup-system.sh installs Debian's chromium) or set CHROMIUM_PATH`);
  }
  outDir = mkdtempSync(join(tmpdir(), 'pg-demo-dist-'));
  profileDir = mkdtempSync(join(tmpdir(), 'pg-demo-profile-'));
  // A separate process, as `npm run demo:build` runs it (not inside this test runner's Vite).
  await promisify(execFile)(process.execPath, [join(REPO, 'node_modules/vite/bin/vite.js'), 'build', DEMOS, '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: REPO });
  server = await preview({ root: DEMOS, configFile: join(DEMOS, 'vite.config.ts'), build: { outDir }, preview: { host: '127.0.0.1', port: 0 }, logLevel: 'warn' });
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--enable-unsafe-webgpu'],
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  for (const d of [outDir, profileDir]) if (d) rmSync(d, { recursive: true, force: true });
});

/** Pixel statistics of a canvas: a hash of its pixels and how many distinct grey levels it has. */
function canvasStats(selector: string): Promise<{ hash: number; levels: number; width: number; height: number }> {
  return page.$eval(selector, (c) => {
    const canvas = c as HTMLCanvasElement;
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const levels = new Set<number>();
    let hash = 0;
    for (let i = 0; i < d.length; i += 4) {
      levels.add(d[i]!);
      hash = (Math.imul(hash, 31) + d[i]!) | 0;
    }
    return { hash, levels: levels.size, width: canvas.width, height: canvas.height };
  });
}

const stat = (key: string) => page.$eval(`.lane [data-stat=${key}]`, (e) => Number((e as HTMLElement).dataset.value));

/** Waits for the sample grid of at least `step`, and returns the step it shows. */
async function samplesAt(step: number): Promise<number> {
  const h = await page.waitForFunction((s) => Number(document.querySelector<HTMLCanvasElement>('canvas.samples')?.dataset.step ?? 0) >= s || !document.querySelector<HTMLElement>('#problem')!.hidden, step, { timeout: 150_000 });
  await h.dispose();
  await expectNoProblem();
  return Number(await page.$eval('canvas.samples', (c) => (c as HTMLCanvasElement).dataset.step));
}

/** Saves the op counts of the (paused) run with its card's button, as a visitor would. */
async function saveOpCounts(): Promise<OpCountsFile> {
  await page.focus('.lane .save-counts');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  expect(download.suggestedFilename()).toBe('demo-cgan-p8+.opcounts.json');
  const path = await download.path();
  return JSON.parse(readFileSync(path, 'utf8')) as OpCountsFile;
}

async function expectNoProblem(): Promise<void> {
  const problem = await page.$eval('#problem', (e) => ((e as HTMLElement).hidden ? '' : e.textContent));
  expect(problem).toBe('');
}

describe('browser demo', () => {
  it('trains a p8+ cgan on WebGPU, shows samples and losses, deploys it and estimates energy', async () => {
    await page.goto(`${server!.resolvedUrls!.local[0]}?${QUERY}`);
    await page.waitForFunction(() => /^Ready/.test(document.querySelector('#status')!.textContent ?? '') || !document.querySelector<HTMLElement>('#problem')!.hidden, null, { timeout: 60_000 });
    await expectNoProblem();
    const images = Number(/^Ready: (\d+) training images/.exec((await page.textContent('#status'))!)?.[1]);

    const adapter = await page.textContent('#adapter');
    expect(adapter).toMatch(/^WebGPU adapter: \S+/);
    expect(await page.textContent('#data-info')).toMatch(/\d+ examples .* \d+ kB gzip-compressed/);

    // Start from the keyboard.
    await page.focus('#start');
    await page.keyboard.press('Enter');

    const first = await samplesAt(1);
    // The page stays responsive while it trains: a frame is painted promptly.
    const t0 = Date.now();
    await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => r())));
    expect(Date.now() - t0).toBeLessThan(2000);
    const before = await canvasStats('canvas.samples');
    expect(before.width).toBeGreaterThan(28);
    expect(before.levels).toBeGreaterThan(16); // not blank, not a flat colour
    const lossG1 = await stat('lossG');
    const lossD1 = await stat('lossD');

    // The grid is redrawn every 2 steps at this size.
    await samplesAt(first + 1);
    const after = await canvasStats('canvas.samples');
    expect(after.levels).toBeGreaterThan(16);
    expect(after.hash).not.toBe(before.hash);

    // Pause (a second press of the same button), and wait until the loop is idle.
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#start')!.textContent === 'Resume', null, { timeout: 60_000 });
    const steps = await stat('step');
    expect(steps).toBeGreaterThanOrEqual(2);
    const lossG = await stat('lossG');
    const lossD = await stat('lossD');
    for (const v of [lossG1, lossD1, lossG, lossD]) expect(Number.isFinite(v)).toBe(true);
    expect(lossG !== lossG1 || lossD !== lossD1).toBe(true);
    expect(await stat('rate')).toBeGreaterThan(0);

    // The op counts of the steps so far, as the page saves them (the second test compares them with
    // Node's).
    const counts = await saveOpCounts();
    expect(counts.run).toMatchObject({ model: 'cgan', recipe: 'p8+', steps, batch: 8 });
    saved = { counts, images };

    // Deploy with the default recipes: p8, p6, p6+, p6+t next to the fp32 reference.
    await page.focus('#deploy-run');
    await page.keyboard.press('Enter');
    const h = await page.waitForFunction(() => document.querySelectorAll('#deploy-rows tr').length >= 5 || !document.querySelector<HTMLElement>('#problem')!.hidden, null, { timeout: 120_000 });
    await h.dispose();
    await expectNoProblem();
    const rows = await page.$$eval('#deploy-rows tr', (trs) =>
      trs.map((tr) => ({
        recipe: (tr as HTMLElement).dataset.recipe,
        psnr: tr.querySelector('[data-metric=psnr]')!.textContent,
        ssim: tr.querySelector('[data-metric=ssim]')!.textContent,
      })),
    );
    expect(rows.map((r) => r.recipe)).toEqual(['fp32', 'p8', 'p6', 'p6+', 'p6+t']);
    for (const r of rows.slice(1)) {
      expect(r.psnr).toMatch(/^(\d+\.\d+|identical)/);
      const ssim = Number(r.ssim);
      expect(ssim).toBeGreaterThan(0);
      expect(ssim).toBeLessThanOrEqual(1);
    }
    expect(rows.slice(1).some((r) => Number.isFinite(Number.parseFloat(r.psnr!)))).toBe(true);

    // Energy: a bar per training run and per deployment recipe, each a positive estimate.
    const bars = await page.$$eval('#energy-chart li', (lis) => lis.map((li) => Number((li as HTMLElement).dataset.energyPj)));
    expect(bars.length).toBe(1 + 5);
    for (const b of bars) expect(b).toBeGreaterThan(0);
    expect(await page.textContent('#energy-sources')).toMatch(/Table entries used/);
    // Deploying added nothing to the training run's counts.
    expect((await saveOpCounts()).records).toEqual(counts.records);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 300_000);

  it('trains CycleGAN on thin2bold and x2 super-resolution in the page, shows their grids and deploys them', async () => {
    for (const model of ['cyclegan', 'srgan'] as const) {
      await page.goto(`${server!.resolvedUrls!.local[0]}?size=tiny&model=${model}&recipe=p8%2B`);
      await page.waitForFunction(() => /^Ready/.test(document.querySelector('#status')!.textContent ?? '') || !document.querySelector<HTMLElement>('#problem')!.hidden, null, { timeout: 60_000 });
      await expectNoProblem();
      expect(await page.textContent('#size-desc')).toMatch(model === 'cyclegan' ? /thin2bold/ : /without the perceptual loss/);
      await page.focus('#start');
      await page.keyboard.press('Enter');
      await samplesAt(1);
      const grid = await canvasStats('canvas.samples');
      // Ten test images per row (cyclegan: sources above translations; srgan: low-res, upscaled, original).
      expect(grid.width).toBeGreaterThanOrEqual(10 * 28);
      expect(grid.levels).toBeGreaterThan(16);
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelector('#start')!.textContent === 'Resume', null, { timeout: 120_000 });
      expect(Number.isFinite(await stat('lossG'))).toBe(true);
      await page.focus('#deploy-run');
      await page.keyboard.press('Enter');
      const rowsWanted = model === 'srgan' ? 4 : 5; // srgan: no output Tanh, so p6+t is left out
      const h = await page.waitForFunction((n) => document.querySelectorAll('#deploy-rows tr').length >= n || !document.querySelector<HTMLElement>('#problem')!.hidden, rowsWanted, { timeout: 120_000 });
      await h.dispose();
      await expectNoProblem();
      const recipes = await page.$$eval('#deploy-rows tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.recipe));
      expect(recipes).toEqual(model === 'srgan' ? ['fp32', 'p8', 'p6', 'p6+'] : ['fp32', 'p8', 'p6', 'p6+', 'p6+t']);
      if (model === 'srgan') expect(await page.textContent('#deploy-status')).toMatch(/p6\+t left out: this generator has no output Tanh/);
      await page.click('#reset');
      await page.waitForFunction(() => /^Ready/.test(document.querySelector('#status')!.textContent ?? ''), null, { timeout: 60_000 });
    }
    expect(consoleErrors).toEqual([]);
  }, 600_000);

  it('the built page records the same op counts as Node for the same recipe, seed and steps', async () => {
    if (!saved) throw new Error('the first test saves the page\'s op counts; it did not get that far');
    const { counts, images } = saved;
    const gpu = await openNodeGpu({ notice: () => {} });
    try {
      // The page trains on the first `images` MNIST training examples, with these settings.
      const config = trainConfig(settingsFromUrl(new URLSearchParams(QUERY), 'tiny'), 'p8+');
      const lane = new Lane(gpu, config, loadMnist('train', { limit: images }));
      for (let i = 0; i < counts.run.steps; i++) await lane.step();
      const node = lane.opCounts();
      expect(node.run).toMatchObject({ model: counts.run.model, recipe: counts.run.recipe, steps: counts.run.steps, batch: counts.run.batch });
      // The comparison covers the points a misclassified layer gets wrong: the errors reaching each
      // generator Linear are rounded to p8e2, its input and weight are p8e2 operands.
      expect(node.records).toContainEqual(expect.objectContaining({ kind: 'convert', phase: 'backward', layer: 'G.model.0', to: 'p8e2' }));
      expect(node.records).toContainEqual(expect.objectContaining({ kind: 'mac', phase: 'forward', layer: 'G.model.0', a: 'p8e2', b: 'p8e2' }));
      expectRecords(counts.records, node.records);
      await lane.dispose();
    } finally {
      gpu.destroy();
    }
  }, 180_000);
});
