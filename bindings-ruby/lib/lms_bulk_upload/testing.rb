# frozen_string_literal: true

require "lms_bulk_upload"

module LmsBulkUpload
  # Testing entry points, outside the documented API: the one judge of the language-neutral
  # vectors of tests/scenarios/ and tests/host-protocol/ (docs/scenario-format.md,
  # docs/host-protocol.md), for this gem's runners. `require "lms_bulk_upload/testing"`.
  module Testing
    # The judge found the outcome different from the expectations; the message names the
    # path that differs.
    class Mismatch < StandardError; end

    module_function

    # Judges a scenario's outcome (a Hash, or JSON text) against its scenario.json text.
    def judge_scenario(scenario_json, outcome)
      judged { LmsBulkUploadNative.judge_scenario_json(scenario_json, json(outcome)) }
    end

    # Judges a host-protocol vector's outcome against the folder's vector.json and
    # results.json.
    def judge_protocol_folder(folder, outcome)
      judged { LmsBulkUploadNative.judge_protocol_folder_json(folder.to_s, json(outcome)) }
    end

    # A scenario's `store_changes` applied to its `store`, as a Hash.
    def apply_store_changes(store, changes)
      JSON.parse(judged { LmsBulkUploadNative.apply_store_changes_json(json(store), json(changes)) })
    end

    def json(value)
      value.is_a?(String) ? value : JSON.generate(HostAdapter.plain(value))
    end

    def judged
      yield
    rescue LmsBulkUploadNative::NativeError::Mismatch => e
      raise Mismatch, e.message, cause: nil
    end
  end
end
