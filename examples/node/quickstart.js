// The whole flow in a few lines: parse, settings, plan, execute, results.
// Run: node examples/node/quickstart.js (after `make node-deps` and a build of the binding,
// as `make test-node` does: examples/node/package.json names it, bindings-node/, by path).
'use strict'
const { parse, plan, MemoryStore, RecordingMailer } = require('lms-bulk-upload')

async function main() {
  const upload = parse('First Name,Last Name,Email,addgroup\nAna,Lopez,ana@example.com,Sales\nBo,Chan,bo@example,\n')
  for (const issue of upload.issues) console.log(`line ${issue.line}: ${issue.code} (${issue.message})`)

  const store = new MemoryStore({ groups: [{ id: 'g1', name: 'Sales' }] })
  const thePlan = await plan(upload, { forcePasswordReset: true }, store)
  console.log('plan', thePlan.summary)

  const mailer = new RecordingMailer()
  const results = await thePlan.execute(store, mailer, { onProgress: (p) => console.log(`${p.done}/${p.total}`) })
  console.log('results', results.summary)
  console.log(results.toCSV())
  if (results.summary.created !== 1 || mailer.messages.length !== 1) process.exit(1)
}

main().catch((error) => {
  console.error(`${error.name} [${error.code}]: ${error.message}`)
  process.exit(1)
})
