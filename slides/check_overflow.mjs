// Fails when anything on a slide does not fit: a section whose content is taller or wider than
// the slide, an element that reaches past the slide's edge, or a code block that would need a
// scroll bar. Reads the "bare" HTML that slides/build.sh makes, in headless Debian Chromium.
//
// With --png DIR it also saves every slide as DIR/DECK.NNN.png, to look at as a person would.
//
// usage: node slides/check_overflow.mjs [--png DIR] build/check/*.html   (CHROME_PATH: the browser)
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
let pngDir = null;
if (args[0] === '--png') {
  pngDir = args[1];
  args.splice(0, 2);
  fs.mkdirSync(pngDir, { recursive: true });
}
const files = args;
const MIN_CODE_PX = 13;  // the smallest code text on a 1280x720 slide we accept
if (files.length === 0) {
  console.error('usage: node check_overflow.mjs DECK.html...');
  process.exit(2);
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: true,
  protocolTimeout: 600000,  // a loaded machine (CI, builds beside us) is slow, not broken
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});

function findOverflow(minCodePx) {
  const slack = 1;  // sub-pixel rounding
  const describe = (el) => {
    const text = (el.textContent || el.getAttribute('src') || '').trim().replace(/\s+/g, ' ');
    return `<${el.tagName.toLowerCase()}> "${text.slice(0, 60)}"`;
  };
  const problems = [];
  document.querySelectorAll('section').forEach((section, index) => {
    const slide = index + 1;
    const heading = (section.querySelector('h1, h2')?.textContent || '').trim();
    const where = `slide ${slide}${heading ? ` (${heading})` : ''}`;
    if (section.scrollHeight > section.clientHeight + slack)
      problems.push(`${where}: content is ${section.scrollHeight - section.clientHeight}px taller than the slide`);
    if (section.scrollWidth > section.clientWidth + slack)
      problems.push(`${where}: content is ${section.scrollWidth - section.clientWidth}px wider than the slide`);
    const box = section.getBoundingClientRect();
    const scale = box.width / section.offsetWidth || 1;
    const reported = new Set();
    for (const el of section.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const past = Math.max(r.right - box.right, r.bottom - box.bottom) / scale;
      if (past <= slack || el.closest('header, footer')) continue;
      reported.add(el);
      if (reported.has(el.parentElement)) continue;  // its parent was reported already
      problems.push(`${where}: ${describe(el)} reaches ${Math.round(past)}px past the slide's edge`);
    }
    // Marp shrinks a code block that is too wide or too tall until it fits: fine by a little,
    // unreadable from the back of the room by a lot. The floor is the code's size on screen.
    for (const pre of section.querySelectorAll('marp-pre')) {
      const scaler = pre.shadowRoot?.querySelector('marp-auto-scaling');
      const svg = scaler?.shadowRoot?.querySelector('svg');
      const view = svg?.viewBox?.baseVal;
      if (!view || !view.width || !view.height) continue;
      const shown = svg.getBoundingClientRect();
      const shrink = Math.min(1, shown.width / scale / view.width, shown.height / scale / view.height);
      const px = parseFloat(getComputedStyle(pre).fontSize) * shrink;
      if (px < minCodePx)
        problems.push(`${where}: a code block is shrunk to ${Math.round(shrink * 100)}% to fit (${px.toFixed(1)}px text, the floor is ${minCodePx}px): shorten it or split it: ${describe(pre)}`);
    }
    for (const pre of section.querySelectorAll('pre')) {
      if (pre.scrollWidth > pre.clientWidth + slack)
        problems.push(`${where}: a code line is ${pre.scrollWidth - pre.clientWidth}px too wide: ${describe(pre)}`);
      if (pre.scrollHeight > pre.clientHeight + slack)
        problems.push(`${where}: a code block is ${pre.scrollHeight - pre.clientHeight}px too tall: ${describe(pre)}`);
    }
  });
  return problems;
}

let failed = 0;
let slides = 0;
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 720 });
  for (const file of files) {
    await page.goto('file://' + path.resolve(file), { waitUntil: 'load' });
    await page.evaluate(() => document.fonts.ready);
    await new Promise((resolve) => setTimeout(resolve, 300));  // marp's code scaling settles
    const count = await page.evaluate(() => document.querySelectorAll('section').length);
    const problems = await page.evaluate(findOverflow, MIN_CODE_PX);
    slides += count;
    const name = path.basename(file, '.html');
    if (pngDir) {
      const slides = await page.$$('svg[data-marpit-svg]');
      for (const [index, slide] of slides.entries()) {
        const number = String(index + 1).padStart(3, '0');
        await slide.screenshot({ path: path.join(pngDir, `${name}.${number}.png`) });
      }
    }
    if (problems.length === 0) {
      console.log(`fits   ${name}: ${count} slides`);
    } else {
      failed += 1;
      console.log(`OVERFLOW ${name}:`);
      for (const p of problems) console.log(`    ${p}`);
    }
  }
} finally {
  await browser.close();
}
console.log(`${files.length - failed} passed, ${failed} failed (${slides} slides)`);
process.exit(failed ? 1 : 0);
