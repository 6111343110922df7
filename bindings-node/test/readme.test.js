'use strict'
// The ```js blocks of the READMEs run as written.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { runJs } = require('./run-js')

const READMES = [path.join(__dirname, '..', '..', 'README.md'), path.join(__dirname, '..', 'README.md')]

function jsBlocks(text) {
  const blocks = []
  const fence = /^```(js|javascript)\s*\n([\s\S]*?)^```/gm
  for (let m; (m = fence.exec(text)); ) blocks.push(m[2])
  return blocks
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lms-readme-'))
test.after(() => fs.rmSync(dir, { recursive: true, force: true }))

for (const readme of READMES) {
  const name = path.relative(path.join(__dirname, '..', '..'), readme)
  const blocks = jsBlocks(fs.readFileSync(readme, 'utf8'))
  test(`${name} has a Node snippet`, () => assert.ok(blocks.length > 0))
  blocks.forEach((code, i) => {
    test(`${name} snippet ${i + 1}`, () => {
      const file = path.join(dir, `${name.replace(/\W/g, '_')}_${i + 1}.js`)
      fs.writeFileSync(file, code)
      const { status, stdout, stderr } = runJs(file, { cwd: path.join(__dirname, '..', '..') })
      assert.equal(status, 0, `${name} snippet ${i + 1} failed:\n${code}\n${stdout}\n${stderr}`)
    })
  })
}
