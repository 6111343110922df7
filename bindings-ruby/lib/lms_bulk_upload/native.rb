# frozen_string_literal: true

# The generated module, its buffers made fast, and the one translation of native errors.

require_relative "lms_bulk_upload_native"

# uniffi's generated writer copies a String into the Rust buffer through `value.bytes` (an
# Array of one Integer per byte): seconds and gigabytes for an 85 MB upload. The same writes
# with one memcpy each; the wire format is unchanged.
LmsBulkUploadNative.const_get(:RustBufferBuilder).class_eval do
  def write(value)
    size = value.bytesize
    reserve(size) { @rust_buf.data.put_bytes(@rust_buf.len, value) }
  end

  def write_string(value)
    value = ::LmsBulkUploadNative.uniffi_utf8(value)
    write_length(value.bytesize)
    write(value)
  end

  def write_bytes(value)
    value = ::LmsBulkUploadNative.uniffi_bytes(value)
    write_length(value.bytesize)
    write(value)
  end

  def write_length(size)
    raise RangeError, "#{size} bytes cannot cross to the native library (at most 2 GiB - 1)" if size > 0x7fff_ffff

    pack_into(4, "l>", size)
  end
end

# A Ruby host object handed to the native library (the screens' WebApi keeps its hooks, store
# and mailer) is released when the native object holding it goes: from Ruby's GC finalizer,
# where uniffi's handle map may not take its Monitor (ThreadError "can't be called from trap
# context"). There the finalizer holds the GVL and Hash#delete is one step: done unlocked.
LmsBulkUploadNative.const_get(:UniffiHandleMap).class_eval do
  alias_method :uniffi_locked_remove, :remove

  def remove(handle)
    uniffi_locked_remove(handle)
  rescue ThreadError
    @map.delete(handle)
  end
end

module LmsBulkUpload
  # Calls into LmsBulkUploadNative, with native errors raised as this gem's exceptions.
  module Native
    module_function

    # Runs the block (a native call); a native error becomes LmsBulkUpload::Error's subclass
    # for its kind; a store or mailer error's cause is the first exception a host object
    # raised. An exception that is
    # no StandardError (Interrupt...) raised by a host method or callback is raised again
    # as it was, after the native call returned.
    def call(*adapters)
      result = yield
      adapters.each(&:reraise_fatal)
      result
    rescue LmsBulkUploadNative::NativeError::Engine => e
      adapters.each(&:reraise_fatal)
      host_failure = %w[store mailer].include?(e.kind)
      raise Error.from_native(e), cause: host_failure ? adapters.lazy.filter_map(&:first_error).first : nil
    rescue LmsBulkUploadNative::NativeError::Busy => e
      raise ThreadError, e.message, cause: nil
    rescue LmsBulkUploadNative::NativeError::Argument => e
      raise ArgumentError, e.message, cause: nil
    end

    # A String of at least this many bytes is parsed where it is (see `parse`): far more
    # than Ruby ever embeds in a String object (23 bytes in 3.1, 640 with variable-width
    # slots), so its bytes are a heap buffer of their own, which the GC never moves.
    LENT_MIN_BYTES = 64 * 1024

    # LmsBulkUploadNative.parse, the same outcome and errors; a large String (an upload
    # read into memory: the 84 MB of a million rows) is lent to the native library in place
    # rather than copied into uniffi's buffer on this thread first (one memcpy into fresh
    # pages, then their free: about a fifth of the parse's time on two threads): the core's
    # parse copies lent bytes itself, on the parse's threads. Lent frozen (`String.new` of
    # a String shares its buffer in MRI: nothing is copied), so that other threads, which run
    # while the call leaves the GVL free, cannot change it under the native library: a
    # String they change gets a buffer of its own first. `lent` stays in this frame for the
    # whole call, so the GC cannot free it. MRI only (the one whose Strings, given for a
    # `:pointer`, ruby-ffi passes as their own buffer).
    def parse(data, options_json)
      data = LmsBulkUploadNative.uniffi_bytes(data)
      return LmsBulkUploadNative.parse(data, options_json) unless lend?(data)

      lent = data.frozen? ? data : String.new(data).freeze
      options = LmsBulkUploadNative.uniffi_utf8(options_json)
      options = LmsBulkUploadNative.const_get(:RustBuffer).alloc_from_string(options)
      handle = LmsBulkUploadNative.rust_call_with_error(LmsBulkUploadNative::NativeError,
                                                        :lms_bulk_upload_ruby_parse_lent, lent, lent.bytesize, options)
      LmsBulkUploadNative::Upload.uniffi_lift(handle)
    end

    # Whether `parse` lends `data` in place: a String of LENT_MIN_BYTES up to the 2 GiB - 1
    # that can cross (a longer one takes uniffi's path, which refuses it), on MRI.
    def lend?(data)
      RUBY_ENGINE == "ruby" && data.is_a?(String) && data.bytesize.between?(LENT_MIN_BYTES, 0x7fff_ffff)
    end

    # The JSON text of a Hash of options, or "null".
    def options_json(options)
      JSON.generate(options.empty? ? nil : HostAdapter.plain(options))
    end

    def store_arg(store)
      return Arg.new(LmsBulkUploadNative::StoreArg::MEMORY.new(store: store.native)) if store.is_a?(MemoryStore)

      HostAdapter.new(store) { |a| LmsBulkUploadNative::StoreArg::HOST.new(host: a) }
    end

    def mailer_arg(mailer)
      if mailer.is_a?(RecordingMailer)
        return Arg.new(LmsBulkUploadNative::MailerArg::RECORDING.new(mailer: mailer.native))
      end

      HostAdapter.new(mailer) { |a| LmsBulkUploadNative::MailerArg::HOST.new(host: a) }
    end

    def journal_arg(journal)
      return nil if journal.nil?
      if journal.is_a?(MemoryJournal)
        return Arg.new(LmsBulkUploadNative::JournalArg::MEMORY.new(journal: journal.native))
      end

      HostAdapter.new(journal) { |a| LmsBulkUploadNative::JournalArg::HOST.new(host: a) }
    end

    # A native argument that raises nothing of its own (a double of the engine).
    Arg = Struct.new(:arg) do
      def first_error = nil
      def reraise_fatal = nil
    end
  end
end

# The long native calls (parse, plan, plan_undo, execute, the screens' WebApi) release the GVL, so a Rails server's other
# threads run meanwhile; a host method called back from them takes the GVL again (ffi does
# that for callbacks made during a blocking call). The signatures are those of the generated
# module, which `test/test_native.rb` compares with it.
module LmsBulkUpload
  module Native
    # name => [parameters, result]; :buffer is a RustBuffer by value, :status the
    # RustCallStatus by reference.
    BLOCKING = {
      uniffi_lms_bulk_upload_ruby_fn_func_parse: [%i[buffer buffer status], :uint64],
      uniffi_lms_bulk_upload_ruby_fn_func_plan: [%i[uint64 uint64 buffer status], :uint64],
      uniffi_lms_bulk_upload_ruby_fn_func_plan_undo: [%i[uint64 buffer buffer status], :uint64],
      uniffi_lms_bulk_upload_ruby_fn_method_plan_execute: [%i[uint64 buffer buffer buffer buffer buffer buffer status], :uint64],
      # The screens (WebApi, lib/lms_bulk_upload/web.rb): a request, a run, the runs resumed,
      # a stream's next chunk (waited for) and its end. Host methods are also called from
      # the API's own threads (a run's heartbeat): ruby-ffi's callback thread runs them, with
      # the GVL that these calls leave free.
      uniffi_lms_bulk_upload_ruby_fn_method_webapi_handle: [%i[uint64 buffer buffer status], :uint64],
      uniffi_lms_bulk_upload_ruby_fn_method_webapi_run: [%i[uint64 buffer status], :buffer],
      uniffi_lms_bulk_upload_ruby_fn_method_webapi_resume_unfinished: [%i[uint64 status], :buffer],
      uniffi_lms_bulk_upload_ruby_fn_method_webresponse_next_chunk: [%i[uint64 status], :buffer],
      uniffi_lms_bulk_upload_ruby_fn_method_webresponse_close: [%i[uint64 status], :void],
      # The runs on the API's own threads waited for as the process ends (their threads call
      # Ruby back meanwhile).
      uniffi_lms_bulk_upload_ruby_fn_func_wait_for_runs: [%i[uint32 status], :int8]
    }.freeze
  end
end

LmsBulkUploadNative.const_get(:UniFFILib).module_eval do
  types = { buffer: LmsBulkUploadNative.const_get(:RustBuffer).by_value,
            status: LmsBulkUploadNative.const_get(:RustCallStatus).by_ref }
  LmsBulkUpload::Native::BLOCKING.each do |name, (params, result)|
    attach_function name, params.map { |p| types.fetch(p, p) }, types.fetch(result, result), blocking: true
  end
  # Not generated: the native library's parse of a String lent in place (LmsBulkUpload::Native.parse),
  # with the generated parse's result and status.
  attach_function :lms_bulk_upload_ruby_parse_lent, [:pointer, :uint64, types[:buffer], types[:status]], :uint64,
                  blocking: true
end
