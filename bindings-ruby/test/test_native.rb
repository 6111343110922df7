# frozen_string_literal: true

# What the gem does to the generated module: its fast string writer keeps the wire format,
# the long calls it re-attaches as blocking (GVL released) keep the generated signatures, and
# its parse of a large String read in place gives what the generated parse gives.
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

  # Sees the Strings LmsBulkUpload::Native.parse lends to the native library: each is
  # pushed to `lent` (when set) just before the native call.
  module SeeLent
    attr_accessor :lent

    def rust_call_with_error(error_module, name, *args)
      lent&.push(args[0]) if name == :lms_bulk_upload_ruby_parse_lent
      super
    end
  end
  LmsBulkUploadNative.singleton_class.prepend(SeeLent)

  # What the generated parse reads (uniffi's buffer, a copy of the String), beside
  # LmsBulkUpload.parse's upload of the same String: the upload as JSON, or the error.
  def generated_and_gem(data, **options)
    generated = begin
      upload_json(LmsBulkUploadNative.parse(data.b, JSON.generate(options)))
    rescue LmsBulkUploadNative::NativeError::Engine => e
      [e.kind, e.code, e.message]
    end
    gem = begin
      upload_json(LmsBulkUpload.parse(data, **options).native)
    rescue LmsBulkUpload::Error => e
      [e.kind, e.code, e.message]
    end
    [generated, gem]
  end

  def upload_json(native)
    [native.report_json, native.head_json, native.rows_json(0, 2**40)]
  end

  # A large String is lent to the native library in place (LmsBulkUpload::Native.parse),
  # frozen (the caller's own when it is frozen), a small one crosses in uniffi's buffer: the
  # upload or the error is the same either way, and the caller's String is left as it was.
  def test_a_large_string_is_read_in_place_with_the_same_outcome
    big = Csv.people(3000) + "Bad,,not-an-email\nP7,Q7,P7@X.COM\n"
    assert_operator big.bytesize, :>=, LmsBulkUpload::Native::LENT_MIN_BYTES
    utf16 = "\uFEFF#{big}".encode("UTF-16LE").b
    unterminated = "#{big}\"x,y,z\n"
    frozen = big.dup.freeze
    lent = LmsBulkUploadNative.lent = Queue.new
    [big, frozen, Class.new(String).new(big), utf16, unterminated, Csv.people(3)].each do |data|
      [{}, { threads: 1 }, { threads: 3 }, { delimiter: ";" }, { max_rows: 10 }].each do |options|
        generated, gem = generated_and_gem(data, **options)
        assert_equal generated, gem, "#{data.bytesize} bytes, #{options}"
        if data.bytesize < LmsBulkUpload::Native::LENT_MIN_BYTES
          assert_empty lent
        else
          passed = lent.pop(true)
          assert passed.frozen?
          assert_equal data.frozen?, passed.equal?(data)
          assert_equal data.b, passed.b
        end
      end
    end
    refute big.frozen?
    assert_equal "too_many_rows", generated_and_gem(big, max_rows: 10)[1][1]
    assert_equal "malformed_csv", generated_and_gem(unterminated)[1][1]
  ensure
    LmsBulkUploadNative.lent = nil
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
