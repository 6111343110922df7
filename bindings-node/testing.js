'use strict'
// For this package's test suites only, not the API: the core's one judge of the scenarios and
// host-protocol vectors (an AssertionError saying what differs, and where), and a scenario's
// `store_changes` applied to its store state.
const { AssertionError } = require('node:assert')
const native = require('./index.js')

function verdict(mismatch) {
  if (mismatch != null) throw new AssertionError({ message: mismatch })
}

module.exports = {
  /** Judges a runner's outcome (JSON text) against a scenario (its scenario.json text). */
  judgeScenario: (scenarioJson, outcomeJson) => verdict(native.judgeScenarioJson(scenarioJson, outcomeJson)),
  /** Judges a runner's outcome against a host-protocol vector given as JSON text (expected results inline). */
  judgeProtocol: (vectorJson, outcomeJson) => verdict(native.judgeProtocolJson(vectorJson, outcomeJson)),
  /** Judges a runner's outcome (JSON text) against the host-protocol vector of `folder`. */
  judgeProtocolFolder: (folder, outcomeJson) => verdict(native.judgeProtocolFolderJson(folder, outcomeJson)),
  /** A scenario's `store` after its `store_changes` (both as data). */
  /** The optional store methods the native MemoryStore's wrapper does not forward (snake_case names). */
  unforwardedStoreMethods: () => JSON.parse(native.unforwardedStoreMethodsJson()),
  applyStoreChanges: (store, changes) => JSON.parse(native.applyStoreChangesJson(JSON.stringify(store ?? null), JSON.stringify(changes))),
}
