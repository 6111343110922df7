'use strict'
// Where no native library fits (a platform without a package, optional dependencies left
// out), requiring the package says which platform this is and which ones have a package.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

test('without a native library for the platform, require names the platform and the packages that exist', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lms-no-native-'))
  try {
    for (const file of ['lms.js', 'index.js', 'package.json']) fs.copyFileSync(path.join(__dirname, '..', file), path.join(dir, file))
    const env = { ...process.env }
    delete env.NAPI_RS_NATIVE_LIBRARY_PATH
    const { status, stderr } = require('node:child_process').spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(dir, 'lms.js'))})`], { env, encoding: 'utf8' })
    assert.notEqual(status, 0)
    const libc = process.platform === 'linux' ? (process.report.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl') : ''
    assert.match(stderr, new RegExp(`no native library for this platform \\(${process.platform}-${process.arch}${libc}, Node`))
    assert.match(stderr, /Packages exist for [^:]*linux-x64-gnu/)
    assert.match(stderr, /Packages exist for [^:]*linux-arm64-musl/)
    assert.doesNotMatch(stderr.split('\n').find((l) => l.includes('Error:')) ?? '', /npm has a bug/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
