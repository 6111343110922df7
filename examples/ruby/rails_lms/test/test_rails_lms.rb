# frozen_string_literal: true

# The example Rails LMS on SQLite (a temporary file), its whole stack through Rack requests
# (Rails' routes and middleware, the mounted LmsBulkUpload::Web): the administrator signs in
# with the LMS's own hash, uploads, plans, approves; the run is an ActiveJob on the async
# adapter, writing the LMS's users through ActiveRecord; the events stream past Rack::ETag;
# the records are in bulk_upload_records. Sign-in links: the store's invitation methods on
# ActiveRecord, and concurrent redemptions of one link through the mount (exactly one wins),
# undo revoking the unused one. `ruby test/test_rails_lms.rb` (make test-browser-rails).
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
require "securerandom"

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

  # A public request (the sign-in link's page): no session, safe from several threads.
  def public_post(path, value)
    response = @app.request("POST", "#{ORIGIN}/admin/bulk-upload#{path}", input: JSON.generate(value),
                                                                          "CONTENT_TYPE" => "application/json",
                                                                          "HTTP_ORIGIN" => ORIGIN)
    [response.status, JSON.parse(response.body, symbolize_names: true)]
  end

  def upload_and_run(csv, settings)
    upload = call("POST", "/api/uploads?filename=staff.csv", body: csv, type: "application/octet-stream")
    assert_equal 201, upload.status, upload.body
    status, plan = json("POST", "/api/uploads/#{JSON.parse(upload.body)['id']}/plans", { settings: settings })
    assert_equal 201, status, plan.inspect
    approve(plan)
  end

  def approve(plan)
    status, run = json("POST", "/api/plans/#{plan[:id]}/approve", {})
    assert_equal 202, status, run.inspect
    Timeout.timeout(60) do
      sleep 0.2 until json("GET", "/api/runs/#{run[:id]}")[1][:state] == "finished"
    end
    run
  end

  # The token of the sign-in link emailed to `email` (the outbox's .eml).
  def token_for(email)
    mail = Dir[File.join(ENV["EMAIL_OUTBOX"], "*.eml")].map { |f| File.read(f) }.find { |m| m.include?("To: #{email}\r\n") }
    refute_nil mail, "an email to #{email}"
    refute_match(/Password: /, mail)
    mail[%r{http://lms\.test/admin/bulk-upload/invitations/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])}, 1]
  end

  def sign_in
    status, session = json("POST", "/api/session", { email: @creds[:email], password: @creds[:password] })
    assert_equal 200, status, session.inspect
    @csrf = session[:csrf_token]
  end

  def test_an_upload_runs_as_an_active_job_and_writes_the_lms_users
    assert_equal 401, json("POST", "/api/session", { email: @creds[:email], password: "wrong" }).first
    sign_in
    earlier = Dir[File.join(ENV["EMAIL_OUTBOX"], "*.eml")] # another test's messages
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
    recipients = (Dir[File.join(ENV["EMAIL_OUTBOX"], "*.eml")] - earlier).map { |f| File.read(f)[/^To: (.*?)\r?$/, 1] }
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

  def test_the_stores_sign_in_link_methods_keep_digests_revoke_and_cascade
    store = LmsStore.new
    user = store.create_user({ email: "kiri.store@example.com", profile: { first_name: "Kiri" },
                               password_hash: nil, force_password_reset: false, login_method: "password" })
    expires = Time.now.to_i + 3600
    add = lambda do |upload, expires_at = expires|
      SecureRandom.hex(32).tap { |d| store.add_invitation({ user: user, digest: d, expires_at: expires_at, upload: upload }) }
    end
    first = add.call("upload-a")
    assert_equal({ user: user, digest: first, expires_at: expires, used: false }, store.find_invitation(first))
    assert_nil store.find_invitation(SecureRandom.hex(32))
    again = add.call("upload-a") # a resumed run of the same upload keeps the first
    refute_nil store.find_invitation(first)
    newer = add.call("upload-b") # a newer upload's link revokes the older unused ones
    assert_nil store.find_invitation(first)
    assert_nil store.find_invitation(again)
    store.revoke_invitations(user, "upload-a")
    refute_nil store.find_invitation(newer)
    store.revoke_invitations(user, "upload-b") # undo: that upload's unused links
    assert_nil store.find_invitation(newer)

    expired = add.call("upload-c", Time.now.to_i - 1)
    refute store.redeem_invitation(expired), "an expired link is never used up"
    refute store.find_invitation(expired)[:used]
    live = add.call("upload-c")
    assert store.redeem_invitation(live)
    assert_nil store.find_invitation(expired), "redeeming drops the user's other unused links"
    assert store.find_invitation(live)[:used]
    refute store.redeem_invitation(live), "single use"
    store.revoke_invitations(user, "upload-c")
    assert store.find_invitation(live)[:used], "undo leaves a used link used"

    assert store.delete_user(user)
    assert_equal 0, Invitation.where(user_id: user.to_i).count, "the links go with their user"
  end

  def test_concurrent_redemptions_of_one_link_one_wins_and_undo_revokes_the_unused_one
    sign_in
    csv = "firstname,lastname,emailaddress\nRua,Link,rua.link@example.com\nTui,Link,tui.link@example.com\n"
    run = upload_and_run(csv, { send_invitations: true })
    rua = token_for("rua.link@example.com")
    tui = token_for("tui.link@example.com")
    refute_nil rua
    refute_nil tui
    users = User.where(email_key: %w[rua.link@example.com tui.link@example.com]).pluck(:email_key, :id).to_h
    links = Invitation.where(user_id: users.values)
    assert_equal 2, links.count
    assert(links.pluck(:digest).all? { |d| d.match?(/\A[0-9a-f]{64}\z/) && d != rua && d != tui }, "only digests kept")
    assert_equal [200, { valid: true }], public_post("/api/invitations/verify", { token: rua })

    passwords = Array.new(6) { |i| "Kowhai-tree-by-the-river-#{i}-#{SecureRandom.hex(2)}" }
    start = Queue.new
    threads = passwords.map do |password|
      Thread.new do
        start.pop
        public_post("/api/invitations/redeem", { token: rua, password: password })
      end
    end
    passwords.size.times { start << true }
    answers = threads.map(&:value)
    winners = answers.each_index.select { |i| answers[i].first == 200 }
    assert_equal 1, winners.size, answers.inspect
    losers = answers.reject.with_index { |_, i| winners.include?(i) }
    assert_equal [[410, "invitation_used"]] * 5, losers.map { |status, body| [status, body[:code]] }
    hash = User.find(users["rua.link@example.com"]).password_hash
    passwords.each_with_index do |password, i|
      assert_equal winners.include?(i), LmsHooks.check_password(hash, password), "the winner's password is the one set"
    end
    assert_equal 410, public_post("/api/invitations/verify", { token: rua }).first

    # Undo the upload (keeping the users): Tui's unused link is revoked, Rua's used one stays.
    status, undo = json("POST", "/api/runs/#{run[:id]}/undo", { delete_created_users: false })
    assert_equal 201, status, undo.inspect
    approve(undo)
    status, body = public_post("/api/invitations/verify", { token: tui })
    assert_equal [404, "invitation_unknown"], [status, body[:code]]
    assert_equal [410, "invitation_used"], public_post("/api/invitations/verify", { token: rua }).then { |s, b| [s, b[:code]] }
    assert_equal 0, Invitation.where(user_id: users["tui.link@example.com"]).count
  end
end
