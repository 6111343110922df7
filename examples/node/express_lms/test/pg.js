'use strict'
// The PostgreSQL server the example's tests run on (LBU_PG_URL): statements on its
// maintenance database, and a database of a test's own created there (dropped by the test,
// which knows when nothing holds it any more).
const crypto = require('node:crypto')
const { Client } = require('pg')

const PG = process.env.LBU_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

/** Runs `sql` on the maintenance database, on a connection of its own. */
async function admin(sql) {
  const c = new Client({ connectionString: PG })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

/** A new empty database named `${prefix}_` and random hex: its name and URL. */
async function createDatabase(prefix) {
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(PG)
  url.pathname = `/${name}`
  return { name, url: url.toString() }
}

module.exports = { admin, createDatabase }
