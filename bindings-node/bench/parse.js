'use strict'
// Parse + validate of the 1,000,000-row file, side by side, in one run:
//   core in Rust  the core's parse, timed inside Rust (no JavaScript boundary), on 1 thread
//                 and on every core (native.benchParseRust)
//   binding       lms.parse(buffer, { threads: 1 }) and lms.parse(buffer) (the default:
//                 every core), timed from JavaScript (rows stay native, issues on demand)
//   plain node    csv-parse (the most downloaded CSV parser on npm) + a WHATWG email regex
//                 + a Set for case-insensitive duplicates + required-field checks
// From the same bytes in memory, in turns (a busy machine weighs on each alike), each run
// after a full GC (`node --expose-gc`, as `make bench-node` runs it); each figure is the best
// run, wall time and the process's CPU time (user + sys, every thread) over the same call.
// Goal: the binding >= 25x plain Node.
//
// The file is bench-data/users-1m.csv at the workspace root (written by the Rust bench, or
// here if absent, with the same deterministic generator). BENCH_DATA=path uses another.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { parse: csvParse } = require('csv-parse/sync')
const lms = require('..')
const native = require('../index.js')

const RUNS = Number(process.env.BENCH_RUNS || 3)
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

// One run of `f` after a full GC (the previous runs' native uploads freed): its wall time
// (or the time `inner` reads from its result: the core's own, taken inside Rust) and the
// process's CPU time, both in ms, added to `figure`; the result is returned.
function timed(figure, f, inner) {
  globalThis.gc?.()
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  const value = f()
  const wall = Number(process.hrtime.bigint() - start) / 1e6
  const used = process.cpuUsage(cpu)
  figure.wall.push(inner ? inner(value) : wall)
  figure.cpu.push((used.user + used.system) / 1e3)
  return value
}

function main() {
  if (!fs.existsSync(FILE)) {
    console.log(`generating ${FILE} ...`)
    generate(FILE)
  }
  const buffer = fs.readFileSync(FILE)
  const mb = buffer.length / 1e6
  const cores = Math.min(os.availableParallelism(), 16)
  const counts = cores > 1 ? [1, cores] : [1]
  const plural = (n) => `${n} thread${n > 1 ? 's' : ''}`
  const figure = (name) => ({ name, wall: [], cpu: [] })
  const rust = new Map(counts.map((n) => [n, figure(`core in Rust: parse + validate, ${plural(n)}`)]))
  const binding = new Map(counts.map((n) => [n, figure(n === cores ? `binding: lms.parse(buffer), ${plural(n)} (default)` : `binding: lms.parse(buffer, {threads: ${n}}), ${plural(n)}`)]))
  const plain = figure('plain node: csv-parse + regex + Set, 1 thread')
  if (!globalThis.gc) console.log('(no --expose-gc: native uploads are freed when V8 decides)')
  let rows
  for (let run = 0; run < RUNS; run++) {
    for (const n of counts) timed(rust.get(n), () => native.benchParseRust(buffer, 1, n), (ms) => ms)
    for (const n of counts) rows = timed(binding.get(n), () => (n === cores ? lms.parse(buffer) : lms.parse(buffer, { threads: n }))).length
  }
  for (let run = 0; run < RUNS; run++) {
    const value = timed(plain, () => plainNode(buffer))
    if (value.rows !== rows) throw new Error(`row counts differ: ${value.rows} vs ${rows}`)
  }
  const best = (f) => Math.min(...f.wall)
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ')
  console.log(`parse + validate, ${rows.toLocaleString('en')} rows, ${mb.toFixed(1)} MB, best of ${RUNS} (node ${process.version}, ${cores} cores, load average ${load})`)
  console.log(`${''.padEnd(52)} ${'wall'.padStart(9)} ${'CPU'.padStart(9)} ${'MB/s'.padStart(8)} ${'rows/s'.padStart(12)}  (best run; CPU: user + sys, every thread)`)
  for (const f of [...rust.values(), ...binding.values(), plain]) {
    const ms = best(f)
    const cpu = f.cpu[f.wall.indexOf(ms)]
    console.log(`${f.name.padEnd(52)} ${ms.toFixed(1).padStart(6)} ms ${cpu.toFixed(0).padStart(6)} ms ${(mb / (ms / 1e3)).toFixed(1).padStart(8)} ${Math.round(rows / (ms / 1e3)).toLocaleString('en').padStart(12)}`)
  }
  console.log('(core in Rust: wall timed inside Rust, the parse alone; CPU over the helper\'s whole call, freeing the upload too)')
  const cpuOfBest = (f) => f.cpu[f.wall.indexOf(best(f))]
  const every = best(binding.get(cores))
  const faster = best(plain) / every
  const lessCpu = (f) => `${(cpuOfBest(plain) / cpuOfBest(f)).toFixed(1)}x less CPU`
  console.log(`\nbinding (${plural(cores)}) vs plain node:    ${faster.toFixed(1).padStart(5)}x faster (goal >= 25x) ${faster >= 25 ? 'MET' : 'MISSED'}; ${lessCpu(binding.get(cores))}`)
  if (cores > 1) console.log(`binding (1 thread) vs plain node:     ${(best(plain) / best(binding.get(1))).toFixed(1).padStart(5)}x faster; ${lessCpu(binding.get(1))}`)
  for (const n of counts) console.log(`binding / core in Rust, ${plural(n).padEnd(10)}     ${(best(binding.get(n)) / best(rust.get(n))).toFixed(2).padStart(5)}x (the binding's own cost)`)
  console.log("(wall-time ratios only mean something on an idle machine; the CPU ones are steadier on a busy one)")
}

main()
