'use strict'
// Runs a JavaScript file the way a user of the package would: `require('lms-bulk-upload')`
// resolves to this folder (through NODE_PATH and a link), whatever the file's location.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

let modules
function nodePath() {
  if (!modules) {
    modules = fs.mkdtempSync(path.join(os.tmpdir(), 'lms-node-modules-'))
    fs.symlinkSync(path.join(__dirname, '..'), path.join(modules, 'lms-bulk-upload'), 'dir')
    process.on('exit', () => fs.rmSync(modules, { recursive: true, force: true }))
  }
  return modules
}

/** Runs `file` with node; returns `{status, stdout, stderr}`. */
function runJs(file, { cwd = path.dirname(file) } = {}) {
  const result = spawnSync(process.execPath, [file], {
    cwd,
    env: { ...process.env, NODE_PATH: nodePath() },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, error: result.error }
}

module.exports = { runJs }
