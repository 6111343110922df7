'use strict'
// Every example in examples/node/ runs and exits with 0 (the apps in its folders have their own
// tests: bullmq-shards/test, and the browser suite for express_lms).
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { runJs } = require('./run-js')

const DIR = path.join(__dirname, '..', '..', 'examples', 'node')
const examples = fs.readdirSync(DIR).filter((f) => f.endsWith('.js')).sort()

test('there are Node examples', () => assert.ok(examples.length >= 1))

for (const name of examples) {
  test(`example ${name}`, () => {
    const { status, stdout, stderr, error } = runJs(path.join(DIR, name), { cwd: path.join(DIR, '..', '..') })
    assert.equal(error, undefined)
    assert.equal(status, 0, `${name} failed:\n${stdout}\n${stderr}`)
  })
}
