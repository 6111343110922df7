'use strict'
// A host store as a Node application would write one: every method is `async` and really
// waits (timers and setImmediate, like a database driver's round trip), ids are numbers.
const { setTimeout: sleep, setImmediate: tick } = require('node:timers/promises')

class AsyncStore {
  constructor({ groups = [], content = [], users = [], delayMs = 0 } = {}) {
    this.groups = new Map(groups.map((g) => [g.name, g]))
    this.content = content
    this.users = new Map()
    this.nextId = 100
    this.delayMs = delayMs
    this.calls = []
    this.failOn = new Map() // email -> Error to throw from createUser
    for (const u of users) this.users.set(u.email.toLowerCase(), { groups: [], enrolments: [], ...u })
  }
  async wait(method) {
    this.calls.push(method)
    if (this.delayMs) await sleep(this.delayMs)
    else await tick()
  }
  async findUsers(emails) {
    await this.wait('findUsers')
    return emails
      .map((e) => this.users.get(e.toLowerCase()))
      .filter(Boolean)
      .map((u) => ({ id: u.id, email: u.email, profile: u.profile ?? {}, groups: u.groups, enrolments: u.enrolments, protected: !!u.protected }))
  }
  async findGroups(names) {
    await this.wait('findGroups')
    return names.filter((n) => this.groups.has(n)).map((n) => this.groups.get(n))
  }
  async findContent(refs) {
    await this.wait('findContent')
    return refs.filter((r) => this.content.some((c) => c.kind === r.kind && c.id === r.id))
  }
  async createUser(user) {
    await this.wait('createUser')
    const failure = this.failOn.get(user.email.toLowerCase())
    if (failure) throw failure
    const id = this.nextId++
    this.users.set(user.email.toLowerCase(), { id, email: user.email, profile: user.profile, passwordHash: user.passwordHash, forcePasswordReset: user.forcePasswordReset, groups: [], enrolments: [] })
    return id
  }
  byId(id) {
    for (const u of this.users.values()) if (String(u.id) === String(id)) return u
    throw new Error(`no user ${id}`)
  }
  async updateProfile(id, changes) {
    await this.wait('updateProfile')
    const u = this.byId(id)
    u.profile = { ...u.profile, ...changes }
  }
  async setPassword(id, hash, forceReset) {
    await this.wait('setPassword')
    Object.assign(this.byId(id), { passwordHash: hash, forcePasswordReset: forceReset })
  }
  async addToGroup(id, group) {
    await this.wait('addToGroup')
    const u = this.byId(id)
    if (!u.groups.includes(group.name)) u.groups.push(group.name)
  }
  async removeFromGroup(id, group) {
    await this.wait('removeFromGroup')
    const u = this.byId(id)
    u.groups = u.groups.filter((g) => g !== group.name)
  }
  async enrol(id, content) {
    await this.wait('enrol')
    this.byId(id).enrolments.push(content)
  }
  async allGroupNames() {
    await this.wait('allGroupNames')
    return [...this.groups.keys()]
  }
}

/** A mailer whose `send` is async and keeps the messages. */
class AsyncMailer {
  constructor() {
    this.messages = []
  }
  async send(message) {
    await tick()
    this.messages.push(message)
  }
}

/** The async store with the four invitation methods, keeping digests in a Map. */
class LinkStore extends AsyncStore {
  constructor() {
    super()
    this.links = new Map()
  }
  async addInvitation(invitation) {
    await this.wait('addInvitation')
    for (const [digest, link] of this.links) {
      if (link.user === invitation.user && !link.used && link.upload !== invitation.upload) this.links.delete(digest)
    }
    this.links.set(invitation.digest, { ...invitation, used: false })
  }
  async findInvitation(digest) {
    await this.wait('findInvitation')
    return this.links.get(digest) ?? null
  }
  async redeemInvitation(digest) {
    await this.wait('redeemInvitation')
    const link = this.links.get(digest)
    if (!link || link.used) return false
    link.used = true
    for (const [other, l] of this.links) if (l.user === link.user && !l.used) this.links.delete(other)
    return true
  }
  async revokeInvitations() {}
}

const FAST_HASH = { memoryKib: 64, iterations: 1, parallelism: 1, insecureForTests: true }

module.exports = { AsyncStore, AsyncMailer, FAST_HASH, LinkStore }
