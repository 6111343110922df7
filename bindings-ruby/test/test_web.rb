# frozen_string_literal: true

# LmsBulkUpload::Web, the screens as a Rack app, through real Rack requests
# (Rack::MockRequest, the app mounted below /admin/bulk-upload as Rails mounts it): sign-in,
# upload, plan, approve; a run executed by a Ruby worker thread (`api.run`, as an ActiveJob
# does) while requests read its progress, and one executed on the API's own thread (no
# `enqueue_run`): both call Ruby back from Rust threads (the heartbeat) while Ruby waits in a
# native call, which must not deadlock. Records in a real SQLite file (ruby-sqlite3).
require_relative "test_helper"
require_relative "hosts"
require "rack"
require "rack/mock"
require "sqlite3"
require "timeout"

class TestWeb < Minitest::Test
  SITE = "http://lms.test/admin/bulk-upload"
  ADMIN = SqliteHooks::ADMIN
  PASSWORD = SqliteHooks::PASSWORD

  # A store whose writes take a while: a run of a few dozen rows outlasts the heartbeat.
  class SlowStore < HashStore
    def create_user(user)
      sleep 0.03
      super
    end
  end

  # A browser: the session cookie and CSRF token, requests through Rack::MockRequest to the
  # app mounted as Rails mounts it (SCRIPT_NAME the mount point, PATH_INFO below it).
  class Browser
    attr_accessor :csrf

    def initialize(app)
      @app = app
      @cookie = ""
      @csrf = ""
    end

    def request(method, target, body: nil, type: "application/json", headers: {})
      path, query = target.split("?", 2)
      env = Rack::MockRequest.env_for("#{SITE.sub('/admin/bulk-upload', '')}/admin/bulk-upload#{path}#{query ? "?#{query}" : ''}",
                                      method: method, input: body, "CONTENT_TYPE" => type,
                                      "HTTP_ORIGIN" => "http://lms.test", "HTTP_COOKIE" => @cookie,
                                      "HTTP_X_CSRF_TOKEN" => @csrf, "REMOTE_ADDR" => "127.0.0.1", **headers)
      env["SCRIPT_NAME"] = "/admin/bulk-upload"
      env["PATH_INFO"] = path
      status, headers, chunks = @app.call(env)
      headers = Rack::Utils::HeaderHash[headers]
      @cookie = headers["set-cookie"].split(";").first if headers["set-cookie"]
      [status, headers, chunks]
    end

    def json(method, target, value = nil)
      status, headers, chunks = request(method, target, body: value && JSON.generate(value))
      text = +""
      chunks.each { |c| text << c }
      chunks.close if chunks.respond_to?(:close)
      [status, text.empty? ? nil : JSON.parse(text, symbolize_names: true), headers]
    end

    def sign_in
      status, session = json("POST", "/api/session", { email: ADMIN, password: PASSWORD })
      raise "sign-in: #{status} #{session}" unless status == 200

      @csrf = session[:csrf_token]
    end

    # Uploaded, planned with generated passwords, approved: the run.
    def approve(csv)
      status, _, chunks = request("POST", "/api/uploads?filename=staff.csv", body: csv, type: "application/octet-stream")
      upload = JSON.parse(chunks.join, symbolize_names: true)
      raise "upload: #{status} #{upload}" unless status == 201

      status, plan = json("POST", "/api/uploads/#{upload[:id]}/plans", { settings: {} })
      raise "plan: #{status} #{plan}" unless status == 201

      status, run = json("POST", "/api/plans/#{plan[:id]}/approve", {})
      raise "approve: #{status} #{run}" unless status == 202

      run
    end
  end

  def setup
    @dir = Dir.mktmpdir
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end

  def screens(hooks, store: HashStore.new(groups: { "Sales" => 1 }, content: [%w[course c-101]]), mailer: ListMailer.new, **options)
    LmsBulkUpload::Web.new(hooks: hooks, store: store, mailer: mailer, site_url: SITE, secret: "s" * 40,
                           execute: { hash_params: TestPaths::CHEAP_HASH, threads: 1 }, **options)
  end

  def test_sign_in_upload_plan_approve_and_a_worker_runs_it_while_requests_follow
    hooks = SqliteHooks.new(File.join(@dir, "records.sqlite3"), queue: true)
    store = SlowStore.new
    mailer = ListMailer.new
    app = screens(hooks, store: store, mailer: mailer)
    browser = Browser.new(app)
    status, refused = browser.json("POST", "/api/session", { email: ADMIN, password: "wrong" })
    assert_equal [401, "invalid_credentials"], [status, refused[:code]]
    browser.sign_in
    status, session = browser.json("GET", "/api/session")
    assert_equal [200, ADMIN], [status, session[:email]]

    rows = 60
    run = browser.approve(Csv.people(rows))
    assert_equal "queued", run[:state]
    assert_equal run[:id], Timeout.timeout(5) { hooks.queued.pop }

    # The worker (an ActiveJob's thread) executes the run; this thread follows it through
    # the API meanwhile: the heartbeat's progress, written from a Rust thread into Ruby.
    worker = Thread.new { app.api.run(run[:id]) }
    seen = []
    Timeout.timeout(60) do
      loop do
        _, now = browser.json("GET", "/api/runs/#{run[:id]}")
        seen << [now[:state], now[:progress][:done]]
        break if now[:state] == "finished"

        sleep 0.1
      end
    end
    assert_equal "ended", worker.value
    assert_equal "already_ended", app.api.run(run[:id])
    assert seen.any? { |state, done| state == "running" && done.positive? && done < rows },
           "progress seen mid-run: #{seen.uniq.inspect}"
    _, ended = browser.json("GET", "/api/runs/#{run[:id]}")
    assert_equal rows, ended[:counts][:created]
    assert_equal rows, store.users.size

    # The run's events: a streamed body, ending with the run.
    status, headers, events = browser.request("GET", "/api/runs/#{run[:id]}/events")
    assert_equal 200, status
    assert headers["content-type"].start_with?("text/event-stream")
    assert headers.key?("last-modified"), "marked so that Rack::ETag leaves the stream alone"
    refute_kind_of Array, events
    text = +""
    events.each { |chunk| text << chunk }
    events.close
    assert_includes text, "event: end"
    assert_includes text, '"state":"finished"'

    # The results, as JSON and as CSV.
    status, page = browser.json("GET", "/api/runs/#{run[:id]}/results?per_page=5")
    assert_equal [200, rows, 5], [status, page[:total], page[:items].size]
    status, headers, csv = browser.request("GET", "/api/runs/#{run[:id]}/results.csv")
    assert_equal 200, status
    assert_equal "text/csv; charset=utf-8", headers["content-type"]
    assert_equal rows + 1, csv.join.lines.size

    # Generated passwords went out by email, and are in no record; nor is the admin's.
    passwords = mailer.sent.filter_map { |m| m[:text][/^Password: (\S+)/, 1] }
    assert_equal rows, passwords.size
    records = hooks.everything
    refute passwords.any? { |p| records.include?(p) }
    refute_includes records, PASSWORD
  end

  def test_without_enqueue_run_a_run_executes_on_the_apis_own_thread
    hooks = SqliteHooks.new(File.join(@dir, "records.sqlite3"))
    store = SlowStore.new
    browser = Browser.new(screens(hooks, store: store))
    browser.sign_in
    run = browser.approve(Csv.people(50))
    state = nil
    Timeout.timeout(60) do
      until state == "finished"
        sleep 0.1
        _, now = browser.json("GET", "/api/runs/#{run[:id]}")
        state = now[:state]
      end
    end
    assert_equal 50, store.users.size
    # Undo: planned from the run's results against the store, approved, executed likewise.
    status, undo = browser.json("POST", "/api/runs/#{run[:id]}/undo", { delete_created_users: false })
    assert_equal "undo_unsupported", undo[:code], "a store without suspend_user cannot undo: #{status} #{undo}"
  end

  def test_refusals_the_page_and_the_body_limit
    hooks = SqliteHooks.new(File.join(@dir, "records.sqlite3"))
    app = screens(hooks, parse_options: { max_file_bytes: 1000 })
    browser = Browser.new(app)
    # Not signed in; then no CSRF token; then another origin.
    status, problem = browser.json("GET", "/api/runs")
    assert_equal [401, "unauthenticated"], [status, problem[:code]]
    browser.sign_in
    token = browser.csrf
    browser.csrf = ""
    status, problem = browser.json("POST", "/api/uploads/up_1/plans", { settings: {} })
    assert_equal [403, "csrf_failed"], [status, problem[:code]]
    browser.csrf = token
    status, = browser.request("DELETE", "/api/session", headers: { "HTTP_ORIGIN" => "http://evil.test" })
    assert_equal 403, status
    # A body over the route's limit is refused before it is read whole.
    status, _, body = browser.request("POST", "/api/uploads?filename=big.csv", body: "x" * 1001, type: "application/octet-stream")
    assert_equal 413, status
    assert_includes body.join, "body_too_large"
    # The page names its mount point; the mount point itself is the page.
    [nil, "/", "/runs"].each do |path|
      env = Rack::MockRequest.env_for("http://lms.test/admin/bulk-upload#{path}")
      env["SCRIPT_NAME"] = "/admin/bulk-upload"
      env["PATH_INFO"] = path.to_s
      status, headers, body = app.call(env)
      assert_equal 200, status, path.inspect
      assert_equal "Content-Type", headers.keys.find { |k| k.casecmp?("content-type") }, "Rack 2's customary case"
      assert headers["Content-Type"].start_with?("text/html")
      assert_includes body.join, '<meta name="bu-base" content="/admin/bulk-upload">'
    end
  end

  def test_a_short_secret_or_a_missing_hook_is_an_argument_error
    hooks = SqliteHooks.new(File.join(@dir, "records.sqlite3"))
    error = assert_raises(ArgumentError) do
      LmsBulkUpload::Web.new(hooks: hooks, store: HashStore.new, mailer: ListMailer.new, site_url: SITE, secret: "short")
    end
    assert_match(/32/, error.message)
    error = assert_raises(ArgumentError) do
      LmsBulkUpload::Web.new(hooks: Object.new, store: HashStore.new, mailer: ListMailer.new, site_url: SITE, secret: "s" * 40)
    end
    assert_match(/authenticate/, error.message)
    # Columns are matched by hand per upload, on its report: not for every upload at once.
    error = assert_raises(ArgumentError) { screens(hooks, parse_options: { column_assignments: { 0 => nil } }) }
    assert_match(/column_assignments/, error.message)
  end

  # A host method raising: the API answers with its message (host_failed), the app goes on.
  def test_a_hook_that_raises_is_a_problem_not_a_crash
    hooks = SqliteHooks.new(File.join(@dir, "records.sqlite3"))
    def hooks.catalog = raise("the catalog is down")
    browser = Browser.new(screens(hooks))
    browser.sign_in
    status, problem = browser.json("GET", "/api/catalog")
    assert_equal 500, status, problem.inspect
    assert_equal "host_failed", problem[:code]
    assert_includes problem[:detail], "the catalog is down"
    status, = browser.json("GET", "/api/session")
    assert_equal 200, status
  end
end
