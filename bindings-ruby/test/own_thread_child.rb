# frozen_string_literal: true

# The child process of test_process_exit.rb: a WebApi whose hooks have no `enqueue_run`
# (records in a SQLite file), over a store that writes its users into a SQLite file too.
# `approve`: it signs in, uploads ROWS new users, plans, approves (the run starts on the
# API's own thread) and lets its main thread end at once. `queue`: the same, with an
# `enqueue_run` whose worker never comes (the run stays queued). `resume`: over the files
# `queue` left, `resume_unfinished` (the run on the API's own thread), and the main thread
# ends. The parent reads both files afterwards.
#
# Usage: ruby test/own_thread_child.rb <folder> approve|queue|resume

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "json"
require "sqlite3"
require "lms_bulk_upload"
require_relative "hosts"

module OwnThreadChild
  ADMIN = SqliteHooks::ADMIN
  PASSWORD = SqliteHooks::PASSWORD
  ORIGIN = "http://lms.test"
  ROWS = 300
  CHEAP_HASH = { memory_kib: 64, iterations: 1, parallelism: 1, insecure_for_tests: true }.freeze

  # A HashStore whose users are also written into a SQLite file as they are created (and
  # read back from it as it opens).
  class FileStore < HashStore
    def initialize(path)
      super(groups: { "Sales" => 1 })
      @db = SQLite3::Database.new(path.to_s)
      @db.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT UNIQUE)")
      @db.execute("SELECT email FROM users ORDER BY id").each do |(email)|
        HashStore.instance_method(:create_user).bind_call(self, { email: email, profile: {} })
      end
    end

    def create_user(user)
      @db.execute("INSERT INTO users (email) VALUES (?)", [user[:email]])
      super
    end
  end

  def self.call(api, method, target, body, cookie: "", csrf: "", type: "application/json")
    path, query = target.split("?", 2)
    headers = [["origin", ORIGIN], ["content-type", type], ["cookie", cookie], ["x-csrf-token", csrf]]
    status, pairs, content = api.handle(method: method, path: path, query: query.to_s, headers: headers, body: body,
                                        peer: "127.0.0.1")
    raise "#{method} #{target}: #{status} #{content}" unless status < 300

    [JSON.parse(content), pairs.to_h["set-cookie"]&.split(";")&.first]
  end

  def self.main(folder, mode)
    hooks = SqliteHooks.new(File.join(folder, "records.sqlite3"), queue: mode == "queue")
    store = FileStore.new(File.join(folder, "lms.sqlite3"))
    api = LmsBulkUpload::WebApi.new(hooks: hooks, store: store, mailer: ListMailer.new, site_url: "#{ORIGIN}/admin/bulk-upload",
                                    secret: "s" * 40, execute: { hash_params: CHEAP_HASH, threads: 1 })
    if mode == "resume"
      puts JSON.generate(resumed: api.resume_unfinished)
      return # The main thread ends here, the run in flight on the API's own thread.
    end

    session, cookie = call(api, "POST", "/api/session", JSON.generate(email: ADMIN, password: PASSWORD))
    csrf = session["csrf_token"]
    csv = (["firstname,lastname,email,addgroup"] + Array.new(ROWS) { |i| "First#{i},Last#{i},user#{i}@example.com,Sales" }).join("\n")
    upload, = call(api, "POST", "/api/uploads?filename=staff.csv", csv, cookie: cookie, csrf: csrf, type: "application/octet-stream")
    plan, = call(api, "POST", "/api/uploads/#{upload['id']}/plans", '{"settings": {}}', cookie: cookie, csrf: csrf)
    run, = call(api, "POST", "/api/plans/#{plan['id']}/approve", "{}", cookie: cookie, csrf: csrf)
    puts JSON.generate(run: run["id"], state: run["state"])
    $stdout.flush
    # The main thread ends here, the run in flight on the API's own thread.
  end
end

OwnThreadChild.main(ARGV.fetch(0), ARGV.fetch(1)) if $PROGRAM_NAME == __FILE__
