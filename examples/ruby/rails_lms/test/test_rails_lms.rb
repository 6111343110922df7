# frozen_string_literal: true

# The example Rails LMS on SQLite (a temporary file), its whole stack through Rack requests
# (Rails' routes and middleware, the mounted LmsBulkUpload::Web): the administrator signs in
# with the LMS's own hash, uploads, plans, approves; the run is an ActiveJob on the async
# adapter, writing the LMS's users through ActiveRecord; the events stream past Rack::ETag;
# the records are in bulk_upload_records. `ruby test/test_rails_lms.rb` (make test-browser-rails).
require "tmpdir"
require "json"

DIR = Dir.mktmpdir("rails-lms-")
ENV["DATABASE_URL"] = "sqlite3:#{File.join(DIR, 'lms.sqlite3')}"
ENV["REDIS_URL"] = ""
ENV["SITE_URL"] = "http://lms.test/admin/bulk-upload"
ENV["EMAIL_OUTBOX"] = File.join(DIR, "outbox")
ENV["BULK_UPLOAD_ARGON2_MEMORY_KIB"] = "64"
ENV["BULK_UPLOAD_ARGON2_ITERATIONS"] = "1"
ENV["BULK_UPLOAD_INSECURE_FAST_HASHING"] = "1"
require_relative "../config/environment"
require "minitest/autorun"
require "rack/mock"
require "timeout"

Minitest.after_run { FileUtils.remove_entry(DIR) }

class TestRailsLms < Minitest::Test
  ORIGIN = "http://lms.test"

  def self.seed
    @seed ||= begin
      out, = IO.popen([{ "DATABASE_URL" => ENV["DATABASE_URL"] }, RbConfig.ruby, File.expand_path("../bin/seed", __dir__), err: %i[child out]], &:read)
      { email: out[/email:\s+(\S+)/, 1], password: out[/password:\s+(\S+)/, 1] }
    end
  end

  def setup
    @creds = self.class.seed
    @app = Rack::MockRequest.new(Rails.application)
    @cookie = ""
    @csrf = ""
  end

  def call(method, path, body: nil, type: "application/json")
    response = @app.request(method, "#{ORIGIN}/admin/bulk-upload#{path}", input: body, "CONTENT_TYPE" => type,
                                                                          "HTTP_ORIGIN" => ORIGIN, "HTTP_COOKIE" => @cookie,
                                                                          "HTTP_X_CSRF_TOKEN" => @csrf)
    @cookie = response["set-cookie"].split(";").first if response["set-cookie"]
    response
  end

  def json(method, path, value = nil)
    response = call(method, path, body: value && JSON.generate(value))
    [response.status, response.body.empty? ? nil : JSON.parse(response.body, symbolize_names: true), response]
  end

  def sign_in
    status, session = json("POST", "/api/session", { email: @creds[:email], password: @creds[:password] })
    assert_equal 200, status, session.inspect
    @csrf = session[:csrf_token]
  end

  def test_an_upload_runs_as_an_active_job_and_writes_the_lms_users
    assert_equal 401, json("POST", "/api/session", { email: @creds[:email], password: "wrong" }).first
    sign_in
    _, catalog = json("GET", "/api/catalog")
    assert_includes catalog[:groups].map { |g| g[:name] }, "Sales"
    csv = "firstname,lastname,emailaddress,addgroup,course\n" \
          "Ana,Lopez,ana.rails@example.com,Sales,induction-101\nBo,Chan,bo.rails@example.com,,\n"
    upload = call("POST", "/api/uploads?filename=staff.csv", body: csv, type: "application/octet-stream")
    assert_equal 201, upload.status, upload.body
    status, plan = json("POST", "/api/uploads/#{JSON.parse(upload.body)['id']}/plans", { settings: {} })
    assert_equal 201, status, plan.inspect
    status, run = json("POST", "/api/plans/#{plan[:id]}/approve", {})
    assert_equal 202, status, run.inspect

    Timeout.timeout(60) do
      sleep 0.2 until json("GET", "/api/runs/#{run[:id]}")[1][:state] == "finished"
    end
    ana = User.find_by!(email_key: "ana.rails@example.com")
    assert_equal %w[Sales], ana.groups.map(&:name)
    assert_equal [%w[course induction-101]], ana.enrolments.map { |e| [e.kind, e.content_key] }
    assert ana.password_hash.start_with?("$argon2id$")
    recipients = Dir[File.join(ENV["EMAIL_OUTBOX"], "*.eml")].map { |f| File.read(f)[/^To: (.*?)\r?$/, 1] }
    assert_equal ["ana.rails@example.com", "bo.rails@example.com", @creds[:email]].sort, recipients.sort

    # Through Rails' middleware (Rack::ETag among them) the event stream stays a stream.
    events = call("GET", "/api/runs/#{run[:id]}/events")
    assert_equal 200, events.status
    assert_nil events["etag"]
    assert_includes events.body, "event: end"

    # The screens' records are in the LMS's database; no password in them.
    assert_equal run[:id], BulkUploadRecord.where(kind: "run").order(:id).last.key
    refute BulkUploadRecord.pluck(:doc).any? { |d| d.include?(@creds[:password]) }
  end

  def test_the_page_and_the_lms_root
    page = call("GET", "/")
    assert_equal 200, page.status
    assert_includes page.body, '<meta name="bu-base" content="/admin/bulk-upload">'
    root = @app.get("#{ORIGIN}/")
    assert_includes root.body, "/admin/bulk-upload/"
  end
end
