# frozen_string_literal: true

module LmsBulkUpload
  # The administrator's screens inside a Ruby web app: the same API and pages as
  # `bulk-upload serve`, over the host's own objects (docs/web-host-protocol.md):
  #
  # - `hooks`: `authenticate(email, password)` (the administrator's email or nil),
  #   a record store of JSON documents (`get_record(kind, id)`, `put_record(kind, id, doc,
  #   expected)`, `list_records(kind, offset, limit)` newest first, `delete_record(kind, id)`),
  #   `catalog` (what the settings screen offers) and optionally `enqueue_run(run_id)` (a
  #   job then calls `run(run_id)`; without it a run executes on a thread of this process);
  # - `store` and `mailer`: the engine's store and mailer (see README.md).
  #
  # Signing and verifying plans, executing runs with their journal, progress, cancel,
  # results and undo are the Rust core's. The calls release the GVL while they wait; host
  # methods run with it (on the calling thread, or on ruby-ffi's callback thread for the
  # API's own threads: a run's heartbeat, a run without a job queue).
  #
  # A run executing on the API's own thread (no `enqueue_run`, or resumed) outlives the
  # request that queued it: the process waits for it as it ends (an `at_exit` block the
  # first WebApi registers; Ruby runs it before stopping its threads), rather than ending
  # under it. An interrupt (Ctrl-C) stops the wait; a run cut so resumes from its journal.
  class WebApi
    @exit_wait = Mutex.new
    @waiting_at_exit = false

    # Registers, once, the `at_exit` block that waits for the runs on the API's own threads.
    def self.wait_for_runs_at_exit
      @exit_wait.synchronize do
        next if @waiting_at_exit

        @waiting_at_exit = true
        at_exit { wait_for_runs }
      end
    end

    # Waits until no run executes on a WebApi's own thread in this process (the GVL released
    # meanwhile: those threads call Ruby back; an interrupt is seen every half second).
    def self.wait_for_runs
      nil until Native.call { LmsBulkUploadNative.wait_for_runs(500) }
    end
    private_class_method :wait_for_runs_at_exit, :wait_for_runs

    # Any Ruby object as a host object of the screens: a long-lived adapter, so an exception
    # is only the failed call's (the API answers with its message), never kept.
    class SharedAdapter < HostAdapter
      def remember(error)
        HostAdapter.transient?(error)
      end
    end
    private_constant :SharedAdapter

    # `site_url`: the screens' public URL, mount path included; `secret`: 32 bytes or more,
    # the same in every process of the host; `parse_options:` and `execute:` as
    # `LmsBulkUpload.parse` and `Plan#execute` take them (no `default_password`);
    # `secure_cookies:` for a site served over TLS; `session_secs:` (8 hours by default).
    # Raises ArgumentError for a short secret, unreadable options or a hook missing.
    def initialize(hooks:, store:, mailer:, site_url:, secret:, parse_options: nil, execute: nil,
                   secure_cookies: false, session_secs: nil)
      adapters = [hooks, store, mailer].map { |o| SharedAdapter.new(o) { |a| a } }
      options = { site_url: site_url.to_s, parse_options: parse_options, execute: execute,
                  secure_cookies: secure_cookies ? true : false, session_secs: session_secs }
      json = JSON.generate(HostAdapter.plain(options))
      @native = Native.call { LmsBulkUploadNative::WebApi.new(*adapters, secret.to_s.b, json) }
      WebApi.send(:wait_for_runs_at_exit)
    end

    # Answers a request below the mount point: `[status, [[name, value]...], body]`, the
    # body a String, or a Response::Stream (each, close) for the run's events.
    # `headers`: `[[name, value]...]` or a Hash; `body`: at most `body_limit(method, path)`
    # bytes (else answer `too_large(limit)`).
    def handle(method:, path:, query: "", headers: [], body: "", peer: nil)
      request = { method: method.to_s, path: path.to_s, query: query.to_s,
                  headers: headers.to_a.map { |n, v| [n.to_s, v.to_s] }, peer: peer&.to_s }
      answer(Native.call { @native.handle(JSON.generate(request), body.to_s.b) })
    end

    # The most bytes of body a request to `path` may have.
    def body_limit(method, path)
      @native.body_limit(method.to_s, path.to_s)
    end

    # The answer to a body over the limit, as `handle` gives it.
    def too_large(limit)
      answer(@native.too_large(limit))
    end

    # Executes a queued run (what the job of `hooks.enqueue_run` calls): "ended",
    # "already_ended", or "busy" while another worker's heartbeat is fresh (try again a
    # few seconds later: a run whose worker was killed is taken over once it is stale).
    def run(run_id)
      Native.call { @native.run(run_id.to_s) }
    end

    # Queues again every run left unfinished (call it when the host starts); their ids.
    def resume_unfinished
      JSON.parse(Native.call { @native.resume_unfinished })
    end

    # A streamed body (the run's events): each chunk as it comes, waited for without the
    # GVL; `close` ends it (the client went away).
    class Stream
      def initialize(native)
        @native = native
      end

      def each
        while (chunk = @native.next_chunk)
          yield chunk.b
        end
      end

      def close
        @native.close
      end
    end

    private

    def answer(response)
      headers = JSON.parse(response.headers_json)
      body = response.is_stream ? Stream.new(response) : response.body.b
      [response.status, headers, body]
    end
  end
end
