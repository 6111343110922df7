'use strict'
// Parse + validate of the 1,000,000-row file, side by side:
//   rust        the core's parse, timed inside Rust (no JavaScript boundary)
//   binding     lms.parse(buffer) from JavaScript (rows stay native, issues on demand)
//   plain node  csv-parse (the most downloaded CSV parser on npm) + a WHATWG email regex
//               + a Set for case-insensitive duplicates + required-field checks
// Best of 3 each, from the same bytes in memory. Targets: binding ≥ 15× faster than plain
// Node, and within 1.3× of the Rust figure.
//
// The file is bench-data/users-1m.csv at the workspace root (written by the Rust bench, or
// here if absent, with the same deterministic generator). BENCH_DATA=path uses another.
const fs = require('node:fs')
const path = require('node:path')
const { parse: csvParse } = require('csv-parse/sync')
const lms = require('..')
const native = require('../index.js')

const RUNS = 3
const FILE = process.env.BENCH_DATA || path.join(__dirname, '..', '..', 'bench-data', 'users-1m.csv')

// ---- The same deterministic file as core/benches/parse.rs ---------------------------------
const FIRST = ['Ana', 'Bo', 'Chloé', 'Dmitri', 'Emma', 'Farah', 'George', 'Hana', 'Ivan', 'José', 'Kiri', 'Liam', 'Mere', 'Noah', 'Olivia', 'Priya', 'Quinn', 'Rawiri', 'Sofia', 'Tama', 'Uma', 'Viktor', 'Wiremu', 'Xin', 'Yusuf', 'Zoë']
const LAST = ['Lopez', 'Chen', 'Ngata', 'Müller', 'Smith', 'Patel', 'Williams', 'Brown', 'Tanaka', 'Kowalski', 'Nguyen', 'Walker', 'Te Rangi', "O'Brien", 'García', 'Singh']
const COUNTRY = ['NZ', 'AU', 'GB', 'US', 'DE', 'ES', 'IN', 'JP']
const ORGANISATION = ['Acme Ltd', 'Globex', 'Initech', 'Umbrella Corp', 'Hooli', 'Kiwi Health', 'Stark Industries']

function generate(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const M = (1n << 64n) - 1n
  let state = 0x2545f4914f6cdd1dn
  const next = (n) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & M
    return Number(state >> 33n) % n
  }
  const out = ['firstname,lastname,emailaddress,phonenumber,uniqueid,country,organisation\n']
  for (let i = 0; i < 1_000_000; i++) {
    const first = FIRST[next(FIRST.length)]
    const last = LAST[next(LAST.length)]
    let organisation = ORGANISATION[next(ORGANISATION.length)]
    const country = COUNTRY[next(COUNTRY.length)]
    const local = [...last].filter((c) => /[A-Za-z]/.test(c)).join('').toLowerCase()
    if (organisation.includes(' ') && i % 5 === 0) organisation = `"${organisation}"`
    const phone = `+64 21 ${String(next(1000)).padStart(3, '0')} ${String(next(10000)).padStart(4, '0')}`
    out.push(`${first},${last},${local}.${i}@example${i % 97}.com,${phone},E${String(i).padStart(7, '0')},${country},${organisation}\n`)
  }
  fs.writeFileSync(`${file}.tmp`, out.join(''))
  fs.renameSync(`${file}.tmp`, file)
}

// ---- Plain Node: csv-parse + regex + Set ------------------------------------------------
// The WHATWG "valid e-mail address" production, as browsers use it for <input type=email>.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/
const REQUIRED = ['firstname', 'lastname', 'emailaddress']

function plainNode(buffer) {
  const records = csvParse(buffer.toString('utf8'), { relax_column_count: true, skip_empty_lines: true, trim: true, bom: true })
  const header = records[0].map((h) => h.toLowerCase().replace(/[\s_-]/g, ''))
  const at = Object.fromEntries(header.map((h, i) => [h, i]))
  const seen = new Set()
  const issues = []
  for (let r = 1; r < records.length; r++) {
    const row = records[r]
    for (const column of REQUIRED) if (!row[at[column]]) issues.push({ code: 'missing_value', line: r + 1, column })
    const email = row[at.emailaddress] ?? ''
    if (email.length > 254 || !EMAIL.test(email)) issues.push({ code: 'invalid_email', line: r + 1 })
    const key = email.toLowerCase()
    if (seen.has(key)) issues.push({ code: 'duplicate_email', line: r + 1 })
    seen.add(key)
  }
  return { rows: records.length - 1, issues }
}

function best(runs, f) {
  let time = Infinity
  let value
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    value = f()
    time = Math.min(time, Number(process.hrtime.bigint() - start) / 1e6)
  }
  return { time, value }
}

function main() {
  if (!fs.existsSync(FILE)) {
    console.log(`generating ${FILE} ...`)
    generate(FILE)
  }
  const buffer = fs.readFileSync(FILE)
  const mb = buffer.length / 1e6
  const rust = native.benchParseRust(buffer, RUNS)
  const binding = best(RUNS, () => lms.parse(buffer))
  const rows = binding.value.length
  const plain = best(RUNS, () => plainNode(buffer))
  if (plain.value.rows !== rows) throw new Error(`row counts differ: ${plain.value.rows} vs ${rows}`)
  const line = (name, ms) => console.log(`${name.padEnd(34)} ${ms.toFixed(1).padStart(9)} ms ${(mb / (ms / 1e3)).toFixed(1).padStart(9)} MB/s ${Math.round(rows / (ms / 1e3)).toLocaleString('en').padStart(12)} rows/s`)
  console.log(`parse + validate, ${rows.toLocaleString('en')} rows, ${mb.toFixed(1)} MB, best of ${RUNS} (node ${process.version})`)
  line('rust (core parse, inside Rust)', rust)
  line('node binding (lms.parse)', binding.time)
  line('plain node (csv-parse + regex)', plain.time)
  const faster = plain.time / binding.time
  const overhead = binding.time / rust
  console.log(`binding vs plain node: ${faster.toFixed(1)}x faster (target >= 15x) ${faster >= 15 ? 'OK' : 'MISSED'}`)
  console.log(`binding vs rust:       ${overhead.toFixed(2)}x (target <= 1.3x) ${overhead <= 1.3 ? 'OK' : 'MISSED'}`)
}

main()
