# frozen_string_literal: true

module LmsBulkUpload
  # Any Ruby object as the binding's one foreign trait (RubyHost): the core's host protocol
  # asks whether it has a method and calls it with JSON values; this converts them (Hashes
  # with Symbol keys in, plain data out) and turns an exception into a failed call, with its
  # message and `transient?`. The first exception is kept, to become the cause of the error
  # the call ends with.
  class HostAdapter
    # The deepest nesting of Hashes and Arrays converted (JSON.generate's own default).
    MAX_DEPTH = 100

    attr_reader :arg, :first_error

    def initialize(object)
      @object = object
      @cancel = nil
      @first_error = nil
      @fatal = nil
      @arg = yield(self)
    end

    # Stop the execution at the next row if an Interrupt (or another exception that is no
    # StandardError) reaches a host method.
    attr_writer :cancel

    # Methods every Ruby object has (Kernel#send, Object#display...) are not the host's: a
    # plain Object is no mailer.
    UNIVERSAL = [BasicObject, Kernel, Object].freeze
    private_constant :UNIVERSAL

    def has_method(name) # rubocop:disable Naming/PredicateName
      @object.respond_to?(name) && !UNIVERSAL.include?(@object.method(name).owner)
    rescue Exception => e # rubocop:disable Lint/RescueException
      remember(e)
      false
    end

    def call(method, args_json)
      args = JSON.parse(args_json, symbolize_names: true)
      reply = @object.public_send(method, *args)
      begin
        JSON.generate(HostAdapter.plain(reply))
      rescue SettingsError => e
        raise LmsBulkUploadNative::HostCallError::Unreadable.new(message: e.message)
      end
    rescue LmsBulkUploadNative::HostCallError::Unreadable
      raise
    rescue Exception => e # rubocop:disable Lint/RescueException
      raise LmsBulkUploadNative::HostCallError::Failed.new(message: HostAdapter.message(e),
                                                           transient: remember(e))
    end

    def reraise_fatal
      raise @fatal if @fatal
    end

    # Records `error`; whether it says it is transient.
    def remember(error)
      @first_error ||= error
      unless error.is_a?(StandardError)
        @fatal ||= error
        @cancel&.cancel
      end
      HostAdapter.transient?(error)
    end

    class << self
      def transient?(error)
        if error.respond_to?(:transient?)
          error.transient? ? true : false
        elsif error.respond_to?(:transient)
          error.transient ? true : false
        else
          false
        end
      end

      # What a failed call reports: the exception's message, or its class when it has none.
      def message(error)
        text = error.message.to_s
        text.empty? ? error.class.name.to_s : text
      end

      # `value` as JSON data: Hashes (keys as text), Arrays, Strings, Symbols (as text),
      # Integers (as text past 64 bits), Floats, true, false, nil; a Struct as its Hash, what
      # converts implicitly (`to_hash`, `to_ary`: an ActiveRecord relation) as that; anything
      # else as its `to_s`, for the core to judge (the reply of a write is ignored; where data
      # is due, the core names what it got).
      # Hashes and Arrays nested deeper than MAX_DEPTH, or one that contains itself, raise
      # SettingsError `invalid_option` (a host's reply: `invalid_host_reply`).
      def plain(value, open = [])
        case value
        when Hash then nest(value, open) { value.each_with_object({}) { |(k, v), h| h[k.to_s] = plain(v, open) } }
        when Array then nest(value, open) { value.map { |v| plain(v, open) } }
        when String, Float, true, false, nil then value
        when Symbol then value.to_s
        when Integer then value.bit_length < 64 ? value : value.to_s
        when Struct then plain(value.to_h, open)
        else
          if value.respond_to?(:to_hash) then plain(value.to_hash, open)
          elsif value.respond_to?(:to_ary) then plain(value.to_ary, open)
          else value.to_s
          end
        end
      end

      private

      def nest(value, open)
        if open.any? { |o| o.equal?(value) }
          raise SettingsError.new("a Hash or Array contains itself, so it cannot be converted", code: "invalid_option")
        end
        if open.size >= MAX_DEPTH
          raise SettingsError.new("Hashes and Arrays are nested more than #{MAX_DEPTH} deep", code: "invalid_option")
        end

        open.push(value)
        begin
          yield
        ensure
          open.pop
        end
      end
    end
  end

  # A `progress:` callable as the ProgressSink foreign trait: false (or an exception) from it
  # stops the execution between rows; the exception is raised again afterwards.
  class ProgressAdapter
    attr_reader :first_error

    def initialize(callable)
      raise TypeError, "progress: must respond to call" unless callable.respond_to?(:call)

      @callable = callable
      @first_error = nil
    end

    def progress(done, total, failed)
      @callable.call(Progress.new(done: done, total: total, failed: failed)) != false
    rescue Exception => e # rubocop:disable Lint/RescueException
      @first_error ||= e
      false
    end

    def reraise_fatal
      raise @first_error if @first_error
    end
  end
end
