# frozen_string_literal: true

# What the gem does to the generated module: its fast string writer keeps the wire format,
# and the long calls it re-attaches as blocking (GVL released) keep the generated signatures.
# (That other threads run meanwhile cannot be observed from Ruby without timing: not tested.)
require_relative "test_helper"
require_relative "hosts"

class TestNative < Minitest::Test
  GENERATED = TestPaths::ROOT.join("bindings-ruby/lib/lms_bulk_upload/lms_bulk_upload_native.rb").read

  NAMES = { buffer: "RustBuffer.by_value", status: "RustCallStatus.by_ref" }.freeze

  def test_the_blocking_calls_have_the_generated_signatures
    LmsBulkUpload::Native::BLOCKING.each do |name, (params, result)|
      generated = GENERATED[/attach_function :#{name},\s*\[[^\]]*\],\s*:?[\w.]+/m] or flunk("#{name} is not generated")
      expected = "attach_function :#{name},\n    [#{params.map { |p| NAMES.fetch(p, ":#{p}") }.join(', ')}],\n    #{NAMES.fetch(result, ":#{result}")}"
      assert_equal expected, generated
    end
  end

  # Host methods are Ruby called back during a blocking call: ffi takes the GVL again for
  # them (every host-object test shows they run; this one with the Ruby journal too).
  def test_host_methods_run_during_a_blocking_call
    store = HashStore.new
    journal = HashJournal.new
    results = LmsBulkUpload.plan(LmsBulkUpload.parse(Csv.people(3)), LmsBulkUpload::Settings.new, store)
                           .execute(store, ListMailer.new, journal: journal, hash_params: TestPaths::CHEAP_HASH)
    assert_equal 3, results.summary[:created]
    assert_equal 3, journal.entries.values.first.size
  end

  def test_strings_cross_byte_for_byte
    text = "firstname,lastname,emailaddress\nZoë,Ngā,zoe@x.com\n"
    row = LmsBulkUpload.parse(text.encode("UTF-16LE").prepend("\uFEFF".encode("UTF-16LE")).b).first
    assert_equal "Ngā", row[:lastname]
    assert_equal "Zoë", LmsBulkUpload.parse(text)[0][:firstname]
    settings = LmsBulkUpload::Settings.new(groups: ["Ventes – Île"])
    assert_equal ["Ventes – Île"], settings.to_h[:groups]
  end
end
