// `make bench-web`: figures printed, never asserted. The release `bulk-upload serve` on a
// fresh demo database, driven by Chromium as a person would:
//   - choosing bench-data/users-1m.csv (1,000,000 rows) until its validation report is on screen;
//   - the same for its first 100,000 rows (bench-data/users-100k.csv);
//   - the plan preview of those 100,000 rows (Preview the changes until the first page shows);
//   - the server's peak resident memory (VmHWM) per MB of file, for each file.
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { ROOT, demoEnv, launch, newPage, signIn, startServer } from '../test/harness.mjs'

const big = join(ROOT, 'bench-data/users-1m.csv')
const small = join(ROOT, 'bench-data/users-100k.csv')
if (!existsSync(big)) throw new Error('bench-data/users-1m.csv is missing: make bench-web generates it')

if (!existsSync(small)) {
  const out = createWriteStream(small)
  let n = 0
  for await (const line of createInterface({ input: createReadStream(big) })) {
    out.write(`${line}\n`)
    if (++n > 100_000) break
  }
  await new Promise((r) => out.end(r))
}

const mb = (file) => statSync(file).size / 1e6
const peakKiB = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])

async function session(file, alsoPreview) {
  const env = demoEnv()
  const server = await startServer(env)
  const browser = await launch()
  try {
    const page = await newPage(browser, server.base)
    page.setDefaultTimeout(600_000)
    await signIn(page, env, '/uploads/new')
    await page.getByRole('heading', { name: 'Upload a file' }).waitFor()
    await page.getByText(/^Files up to/).waitFor()
    const t0 = performance.now()
    await page.getByLabel('Choose a file').setInputFiles(file)
    await page.getByRole('heading', { name: /^Validation report: / }).waitFor()
    await page.getByRole('table', { name: /^Issues found/ }).getByRole('row').nth(1).waitFor()
    const report = (performance.now() - t0) / 1000
    const rows = await page
      .getByRole('region', { name: 'File report' })
      .locator('div', { has: page.locator('dt', { hasText: /^Rows$/ }) })
      .locator('dd')
      .textContent()
    let preview = null
    if (alsoPreview) {
      await page.getByRole('button', { name: 'Continue to settings' }).click()
      await page.getByRole('button', { name: 'Preview the changes' }).waitFor()
      const t1 = performance.now()
      await page.getByRole('button', { name: 'Preview the changes' }).click()
      await page.getByRole('heading', { name: 'Preview' }).waitFor()
      await page.getByRole('table', { name: /Each row of the plan/ }).getByRole('row').nth(1).waitFor()
      preview = (performance.now() - t1) / 1000
    }
    const peak = peakKiB(server.child.pid) * 1024 / 1e6
    return { rows, report, preview, peak, size: mb(file) }
  } finally {
    await browser.close()
    await server.stop()
    env.cleanup()
  }
}

const million = await session(big, false)
const hundred = await session(small, true)
const line = (label, v) => console.log(`${label.padEnd(58)} ${v}`)
console.log('bench-web (release bulk-upload serve, headless Chromium; figures, not assertions)')
line(`choose ${million.rows} rows (${million.size.toFixed(1)} MB) -> report on screen`, `${million.report.toFixed(2)} s (goal <= 3 s)`)
line(`choose ${hundred.rows} rows (${hundred.size.toFixed(1)} MB) -> report on screen`, `${hundred.report.toFixed(2)} s (goal <= 0.5 s)`)
line(`plan preview of ${hundred.rows} rows`, `${hundred.preview.toFixed(2)} s (goal <= 2 s)`)
line(`server peak RSS, ${million.size.toFixed(1)} MB file`, `${million.peak.toFixed(0)} MB = ${(million.peak / million.size).toFixed(2)} x the file (goal <= 3 x)`)
line(`server peak RSS, ${hundred.size.toFixed(1)} MB file (+ preview)`, `${hundred.peak.toFixed(0)} MB = ${(hundred.peak / hundred.size).toFixed(2)} x the file`)
