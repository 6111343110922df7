'use strict'
// `node seed.js`: the LMS's tables in DATABASE_URL, the demo groups and content, and its
// administrator with a new password printed once.
const crypto = require('node:crypto')
const { Client } = require('pg')
const { SCHEMA, hashPassword } = require('./lms.js')

const GROUPS = ['Sales', 'Marketing', 'Engineering', 'Support', 'Finance', 'Human Resources', 'Auckland Office',
  'Wellington Office', 'London Office', 'Managers', 'New Starters']
const CONTENT = [
  ['course', 'induction-101', 'Company induction'],
  ['course', 'privacy-basics', 'Privacy basics'],
  ['course', 'health-safety', 'Health and safety at work'],
  ['course', 'sales-fundamentals', 'Sales fundamentals'],
  ['course', 'secure-coding', 'Secure coding'],
  ['collection', 'onboarding', 'Onboarding collection'],
  ['collection', 'leadership', 'Leadership essentials'],
  ['campaign', 'compliance-2026', 'Annual compliance campaign 2026'],
  ['campaign', 'wellbeing-week', 'Wellbeing week'],
]
const ADMIN = 'admin@example.co.nz'

async function main() {
  const client = new Client({ connectionString: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/express_lms' })
  await client.connect()
  try {
    await client.query(SCHEMA)
    for (const name of GROUPS) await client.query('INSERT INTO lms_groups (name) VALUES ($1) ON CONFLICT DO NOTHING', [name])
    for (const [kind, id, title] of CONTENT) await client.query('INSERT INTO lms_content VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [kind, id, title])
    const exists = await client.query('SELECT 1 FROM lms_users WHERE lower(email) = $1', [ADMIN])
    if (exists.rowCount) {
      console.log(`the demo administrator ${ADMIN} exists already`)
      return
    }
    const password = crypto.randomBytes(12).toString('base64url')
    await client.query("INSERT INTO lms_users (email, first_name, last_name, password_hash, is_admin, protected) VALUES ($1, 'Aroha', 'Te Whare', $2, true, true)", [ADMIN, hashPassword(password)])
    console.log('Demo administrator of the screens (shown once, stored only as a hash):')
    console.log(`  email:    ${ADMIN}`)
    console.log(`  password: ${password}`)
  } finally {
    await client.end()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
