#!/usr/bin/env node
// Check that the LaTeX in notebooks' markdown cells renders in a real JupyterLab (MathJax 3).
//
// Run it through ./run.sh, which installs JupyterLab and playwright-core in a cache folder,
// starts a server on the notebooks' folder and stops it afterwards:
//
//   tools/jupyter_render/run.sh examples/*.ipynb
//
// Environment (run.sh sets them):
//   JLAB_URL   base URL of a running JupyterLab
//   NB_DIR     the notebooks' folder on disk; NB_URLDIR the same folder under the server root
//   SHOT_DIR   where full-page PNGs go;        REPORT   the JSON report
//   CHROMIUM   browser binary (default /usr/bin/chromium)
// Exit code 1 if any notebook has a problem: a markdown cell whose math segments in the
// source and typeset on the page differ in number, a MathJax error, an undefined macro
// (MathJax shows it in red), or TeX left as raw text. The server runs with windowingMode
// "none" so that every cell is on the page; the script also scrolls through each notebook.

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const BASE = process.env.JLAB_URL || 'http://localhost:8899';
const NB_DIR = process.env.NB_DIR || '.';
const NB_URLDIR = process.env.NB_URLDIR || '';
const SHOT_DIR = process.env.SHOT_DIR || 'render-shots';
const REPORT = process.env.REPORT || 'render-report.json';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// ---------------------------------------------------------------------------
// Source side: an independent count of math segments in each markdown cell.
// Code spans/fences are skipped; \$ is an escaped dollar; $$..$$, $..$, \(..\), \[..\]
// and a bare \begin{env}..\end{env} each count as one segment.
function stripCode(src) {
  // fenced blocks
  src = src.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (m) => ' '.repeat(m.length));
  // inline code spans: a run of N backticks up to the next run of exactly N
  return src.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (m) => ' '.repeat(m.length));
}

function mathSegments(src) {
  const s = stripCode(src);
  const segs = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\' && s[i + 1] === '$') { i += 2; continue; }
    let open = null, close = null, display = false;
    if (s.startsWith('$$', i)) { open = '$$'; close = '$$'; display = true; }
    else if (c === '$') { open = '$'; close = '$'; }
    else if (s.startsWith('\\(', i)) { open = '\\('; close = '\\)'; }
    else if (s.startsWith('\\[', i)) { open = '\\['; close = '\\]'; display = true; }
    else {
      const m = /^\\begin\{([^}]*)\}/.exec(s.slice(i));
      if (m) { open = m[0]; close = '\\end{' + m[1] + '}'; display = true; }
    }
    if (!open) { i++; continue; }
    // find the closing delimiter (skip escaped \$ for dollar delimiters)
    let j = i + open.length, end = -1;
    while (j < s.length) {
      if (s[j] === '\\' && (open[0] === '$') && s[j + 1] === '$') { j += 2; continue; }
      if (s.startsWith(close, j)) { end = j; break; }
      if (open === '$' && s[j] === '\n' && s[j + 1] === '\n') break; // no inline math across paragraphs
      j++;
    }
    if (end < 0) { segs.push({ tex: s.slice(i, i + 60), unclosed: true, display }); i += open.length; continue; }
    const tex = open.startsWith('\\begin') ? s.slice(i, end + close.length) : s.slice(i + open.length, end);
    segs.push({ tex, display });
    i = end + close.length;
  }
  return segs;
}

function problemId(src) {
  const m = /^#{1,6}\s+`([^`]+)`/m.exec(src);
  if (m) return m[1];
  const h = /^#{1,6}\s+(.+)$/m.exec(src);
  return h ? h[1].trim() : null;
}

// ---------------------------------------------------------------------------
// Browser side: collect per-markdown-cell render results from the visible notebook.
function collectInPage() {
  const panel = document.querySelector('#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return { error: 'no notebook panel' };
  const cells = [...panel.querySelectorAll('.jp-Notebook > .jp-WindowedPanel-outer .jp-Cell, .jp-Notebook .jp-Cell')];
  const uniq = [...new Set(cells)];
  return uniq.map((cell, idx) => {
    const isMd = cell.classList.contains('jp-MarkdownCell');
    if (!isMd) return { idx, type: 'code' };
    const r = cell.querySelector('.jp-RenderedMarkdown');
    if (!r) return { idx, type: 'markdown', rendered: false };
    const all = [...r.querySelectorAll('mjx-container')];
    const top = all.filter((e) => !e.parentElement.closest('mjx-container'));
    const errors = [...r.querySelectorAll('mjx-merror')].map((e) => ({
      message: e.getAttribute('data-mjx-error') || e.getAttribute('title') || '',
      containerIndex: top.indexOf(e.closest('mjx-container')),
    }));
    // noundefined package: unknown macros become red mtext instead of an error
    const red = [...r.querySelectorAll('mjx-container [style*="color"]')]
      .filter((e) => /red|rgb\(255,\s*0,\s*0\)/i.test(e.getAttribute('style') || ''))
      .map((e) => ({ containerIndex: top.indexOf(e.closest('mjx-container')), text: (e.closest('mjx-container').querySelector('mjx-assistive-mml')?.textContent || '') }));
    // text outside math and code that still looks like TeX
    const clone = r.cloneNode(true);
    clone.querySelectorAll('mjx-container, code, pre, script, style').forEach((e) => e.remove());
    const text = clone.textContent;
    const raw = [];
    const re = /\$+|\\[A-Za-z]+|\\[\[\]\(\)]|Undefined control sequence|Missing (?:close|open) brace|Extra (?:close|open) brace|Misplaced|Math input error/g;
    let m;
    while ((m = re.exec(text))) raw.push(text.slice(Math.max(0, m.index - 40), m.index + 40).replace(/\s+/g, ' '));
    const displays = top.filter((e) => e.getAttribute('display') === 'true').length;
    const jax = [...new Set(top.map((e) => e.getAttribute('jax')))];
    const zeroSize = top.filter((e) => { const b = e.getBoundingClientRect(); return b.width === 0 || b.height === 0; }).length;
    const mml = top.map((e) => (e.querySelector('mjx-assistive-mml math') ? 1 : 0)).reduce((a, b) => a + b, 0);
    return { idx, type: 'markdown', rendered: true, mjx: top.length, displays, jax, errors, red, raw, zeroSize, mml };
  });
}

async function waitForTypeset(page, nMd, timeoutMs = 60000) {
  const t0 = Date.now();
  let last = -1, stableSince = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const st = await page.evaluate(() => {
      const panel = document.querySelector('#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)');
      if (!panel) return null;
      const md = panel.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown').length;
      const mjx = panel.querySelectorAll('mjx-container').length;
      return { md, mjx };
    });
    if (st && st.md >= nMd) {
      const key = st.mjx;
      if (key !== last) { last = key; stableSince = Date.now(); }
      else if (Date.now() - stableSince > 2000) return st;
    }
    await page.waitForTimeout(250);
  }
  throw new Error('timed out waiting for typesetting');
}

async function scrollThrough(page) {
  // attach/typeset every cell even in windowed modes; end back at the top
  await page.evaluate(async () => {
    const outer = document.querySelector('#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
    if (!outer) return;
    for (let y = 0; y <= outer.scrollHeight; y += Math.max(200, outer.clientHeight / 2)) {
      outer.scrollTop = y;
      await new Promise((r) => setTimeout(r, 150));
    }
    outer.scrollTop = 0;
  });
}

async function checkNotebook(browser, name) {
  const nb = JSON.parse(fs.readFileSync(path.join(NB_DIR, name), 'utf8'));
  const srcCells = nb.cells.map((c, idx) => {
    const src = Array.isArray(c.source) ? c.source.join('') : c.source;
    return c.cell_type === 'markdown'
      ? { idx, type: 'markdown', id: problemId(src), segs: mathSegments(src) }
      : { idx, type: c.cell_type };
  });
  const nMd = srcCells.filter((c) => c.type === 'markdown').length;

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message));
  const url = `${BASE}/lab/tree/${NB_URLDIR ? NB_URLDIR + '/' : ''}${encodeURIComponent(name)}?reset`;
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60000 });
  await page.waitForSelector('#jp-main-dock-panel .jp-NotebookPanel .jp-Notebook .jp-Cell', { timeout: 60000 });
  await page.waitForLoadState('networkidle', { timeout: 15000 }).catch(() => {});
  await scrollThrough(page);
  await waitForTypeset(page, nMd);
  // collapse the left sidebar so the notebook gets the width a reader would give it
  const leftTab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current');
  if (await leftTab.count()) await leftTab.first().click().catch(() => {});
  await page.waitForTimeout(500);
  const rendered = await page.evaluate(collectInPage);
  const dirtyOnOpen = await page.locator('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current.jp-mod-dirty').count() > 0;
  if (!Array.isArray(rendered)) throw new Error(JSON.stringify(rendered));

  // full-page screenshot: grow the viewport to the notebook's scroll height
  const dims = await page.evaluate(() => {
    const outer = document.querySelector('#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
    const b = outer.getBoundingClientRect();
    const cells = outer.querySelectorAll('.jp-Cell');
    const last = cells[cells.length - 1].getBoundingClientRect();
    return { content: last.bottom - b.top + outer.scrollTop, ch: outer.clientHeight, winH: window.innerHeight };
  });
  const fullH = Math.ceil(dims.winH - dims.ch + dims.content + 60);
  await page.setViewportSize({ width: 1280, height: Math.min(fullH, 30000) });
  await page.waitForTimeout(1500);
  const shot = path.join(SHOT_DIR, name.replace(/\.ipynb$/, '.png'));
  await page.screenshot({ path: shot, fullPage: true });

  // compare cell by cell
  const cells = [];
  let srcTotal = 0, renTotal = 0;
  const problems = [];
  if (rendered.length !== srcCells.length) problems.push(`cell count: source ${srcCells.length}, DOM ${rendered.length}`);
  for (const sc of srcCells) {
    if (sc.type !== 'markdown') continue;
    const rc = rendered[sc.idx] || {};
    const n = sc.segs.length, got = rc.mjx ?? 0;
    srcTotal += n; renTotal += got;
    const entry = { cell: sc.idx, id: sc.id, source: n, rendered: got, displays: rc.displays, unclosed: sc.segs.filter((s) => s.unclosed).map((s) => s.tex) };
    const issues = [];
    if (!rc.rendered) issues.push('markdown cell not rendered');
    if (n !== got) issues.push(`segments: source ${n} vs rendered ${got}`);
    for (const e of rc.errors || []) issues.push(`mjx-merror "${e.message}" in segment #${e.containerIndex}: ${sc.segs[e.containerIndex]?.tex}`);
    for (const e of rc.red || []) issues.push(`red (undefined macro?) in segment #${e.containerIndex}: ${sc.segs[e.containerIndex]?.tex}`);
    for (const t of [...new Set(rc.raw || [])]) issues.push(`raw TeX-like text left: ...${t}...`);
    if (entry.unclosed.length) issues.push('unclosed delimiter in source: ' + entry.unclosed.join(' | '));
    if (rc.zeroSize) issues.push(`${rc.zeroSize} math element(s) with zero size`);
    if (issues.length) { entry.issues = issues; problems.push(...issues.map((i) => `cell ${sc.idx} (${sc.id}): ${i}`)); }
    cells.push(entry);
  }
  await context.close();
  return { notebook: name, url, dirtyOnOpen, screenshot: shot, screenshotHeight: fullH, sourceSegments: srcTotal, renderedMjx: renTotal, markdownCells: nMd, cells, problems, consoleErrors };
}

(async () => {
  fs.mkdirSync(SHOT_DIR, { recursive: true });
  let names = process.argv.slice(2);
  if (!names.length) names = fs.readdirSync(NB_DIR).filter((f) => f.endsWith('.ipynb')).sort();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const version = browser.version();
  const lab = await (async () => {
    const ctx = await browser.newContext(); const p = await ctx.newPage();
    await p.goto(`${BASE}/lab?reset`, { waitUntil: 'domcontentloaded' });
    await p.waitForSelector('#jp-main-dock-panel', { timeout: 60000 });
    const v = await p.evaluate(() => { try { return JSON.parse(document.getElementById('jupyter-config-data').textContent).appVersion; } catch (e) { return null; } });
    await ctx.close(); return v;
  })();
  const results = [];
  let bad = 0;
  for (const name of names) {
    let r;
    try { r = await checkNotebook(browser, name); }
    catch (e) { r = { notebook: name, problems: ['FAILED: ' + e.message] }; }
    results.push(r);
    if (r.problems.length) bad++;
    console.log(`${r.problems.length ? 'FAIL' : 'ok  '} ${name.padEnd(36)} source ${String(r.sourceSegments).padStart(3)}  rendered ${String(r.renderedMjx).padStart(3)}  ${r.screenshot || ''}`);
    for (const p of r.problems) console.log('       ' + p);
  }
  await browser.close();
  fs.writeFileSync(REPORT, JSON.stringify({ chromium: version, jupyterlab: lab, base: BASE, results }, null, 2));
  console.log(`chromium ${version}, jupyterlab ${lab}; ${names.length} notebooks, ${bad} with problems; report ${REPORT}`);
  process.exit(bad ? 1 : 0);
})();
