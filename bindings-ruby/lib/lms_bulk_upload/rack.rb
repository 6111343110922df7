# frozen_string_literal: true

require "time"
require_relative "web"

module LmsBulkUpload
  # The screens as a Rack app, mounted in Rails (or any Rack router) below a path:
  #
  #   # config/routes.rb
  #   mount LmsBulkUpload::Web.new(hooks: hooks, store: store, mailer: mailer,
  #                                site_url: "https://lms.example.com/admin/bulk-upload",
  #                                secret: ENV.fetch("BULK_UPLOAD_SECRET")) => "/admin/bulk-upload"
  #
  # Every request below the mount point (its PATH_INFO) goes to the WebApi: the adapter
  # only maps the Rack request and response. The API has its own session cookie, CSRF token
  # and Origin check (Rails' own CSRF protection is for its controllers, not a mounted app).
  # `#api` is the WebApi: its `run(run_id)` is what the host's job calls.
  class Web
    attr_reader :api

    # `api`: a WebApi, or the WebApi's keyword arguments. The runs a stop of the host left
    # unfinished are queued again at the first request (`resume: false`: the host calls
    # `api.resume_unfinished` itself).
    def initialize(api = nil, resume: true, **options)
      @api = api || WebApi.new(**options)
      @resume = resume
      @lock = Mutex.new
    end

    def call(env)
      resume_unfinished
      method = env["REQUEST_METHOD"].to_s
      path = env["PATH_INFO"].to_s
      path = "/" if path.empty?
      limit = @api.body_limit(method, path)
      body = read_body(env, limit)
      status, headers, body =
        if body.nil?
          @api.too_large(limit)
        else
          @api.handle(method: method, path: path, query: env["QUERY_STRING"].to_s, headers: request_headers(env),
                      body: body, peer: env["REMOTE_ADDR"])
        end
      [status, response_headers(headers, body), body.is_a?(String) ? [body] : body]
    end

    private

    def resume_unfinished
      return unless @resume

      @lock.synchronize do
        next unless @resume

        @api.resume_unfinished
        @resume = false # tried again at the next request when it raised
      end
    end

    # The body, or nil once it is longer than `limit` (it is then not read further).
    def read_body(env, limit)
      return nil if env["CONTENT_LENGTH"].to_i > limit

      input = env["rack.input"]
      return "" if input.nil?

      input.rewind if input.respond_to?(:rewind)
      body = input.read(limit + 1) || ""
      body.bytesize > limit ? nil : body
    end

    def request_headers(env)
      env.each_with_object([]) do |(key, value), pairs|
        name =
          if key.start_with?("HTTP_") then key.delete_prefix("HTTP_")
          elsif key == "CONTENT_TYPE" || key == "CONTENT_LENGTH" then key
          end
        pairs << [name.downcase.tr("_", "-"), value.to_s] if name && value.is_a?(String)
      end
    end

    # The API's header pairs as Rack's Hash: names in lower case for Rack 3, in Rack 2's
    # customary case (`Set-Cookie`) otherwise, where some middleware looks names up exactly;
    # a repeated header's values joined by newlines. A streamed body is marked with
    # `Last-Modified`: Rack::ETag (in Rails' default middleware) reads a body whole to digest
    # it, unless that header is there.
    def response_headers(pairs, body)
      pairs += [["last-modified", Time.now.httpdate]] unless body.is_a?(String) || pairs.any? { |n, _| n == "last-modified" }
      pairs.each_with_object({}) do |(name, value), headers|
        name = Web.header_name(name)
        headers[name] = headers.key?(name) ? "#{headers[name]}\n#{value}" : value
      end
    end

    def self.header_name(name)
      return name if defined?(::Rack::RELEASE) && ::Rack::RELEASE >= "3"

      name.split("-").map(&:capitalize).join("-")
    end
  end
end
