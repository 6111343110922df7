# frozen_string_literal: true

# A whole upload into a Canvas-style ActiveRecord database on SQLite: examples/data/users.csv
# (50 people, a few mistakes in it) planned, shown, executed, then planned again to show
# that a second run changes nothing. Checks its own results; exits non-zero if one is off.
#
#   ruby -I bindings-ruby/lib examples/ruby/canvas_upload.rb [DATABASE]

require "tmpdir"
require_relative "canvas_store"

def check(what)
  raise "check failed: #{what}" unless yield
end

database = ARGV[0] || File.join(Dir.mktmpdir("canvas"), "canvas.sqlite3")
Canvas.connect(database)
%w[Auckland\ Office Wellington\ Office London\ Office New\ Starters Support Sales Marketing
   Engineering Managers Finance Human\ Resources].each { |name| Canvas::Group.find_or_create_by!(name: name) }
Canvas::Course.find_or_create_by!(sis_course_id: "ONBOARD-101", name: "Onboarding")
Canvas::User.find_or_create_by!(email_key: "admin@example.co.nz") do |u|
  u.assign_attributes(email: "Admin@Example.co.nz", first_name: "Site", last_name: "Admin", site_admin: true)
end

upload = LmsBulkUpload.parse(Pathname(__dir__).join("../data/users.csv"))
puts "#{upload.size} rows, #{upload.valid_count} valid"
upload.issues.select(&:error?).each { |i| puts "  line #{i.line}: #{i.code}: #{i.message}" }

settings = LmsBulkUpload::Settings.new(generate_passwords: true, send_notification_email: true,
                                       enrolments: [{ kind: "course", id: "ONBOARD-101" }],
                                       groups: ["New Starters"], site_url: "https://lms.example.invalid")
store = Canvas::Store.new
plan = LmsBulkUpload.plan(upload, settings, store)
puts "plan #{plan.fingerprint}: #{plan.summary}"

mailer = Canvas::QueueingMailer.new
results = plan.execute(store, mailer, hash_params: { memory_kib: 64, iterations: 1, parallelism: 1, insecure_for_tests: true }) # a demo
store.close
puts results.to_csv.lines.first(4).join

summary = results.summary
check("every planned user created") { summary[:created] == plan.summary[:create] && summary[:created].positive? }
check("no row failed") { summary[:failed].zero? }
check("the admin is untouched") { results.rows.find { |r| r[:email] == "admin@example.co.nz" }[:status] == "rejected" }
check("one welcome email per new user, flushed") { mailer.deliveries.size == summary[:created] }
check("users in the database") { Canvas::User.count == summary[:created] + 1 }
check("everyone new is enrolled") { Canvas::Enrollment.count == summary[:created] }
check("passwords are hashes") { Canvas::User.where.not(password_hash: nil).pluck(:password_hash).all? { |h| h.start_with?("$argon2id$") } }
check("no password in the database in clear") do
  mailer.deliveries.none? { |m| Canvas::User.where("password_hash LIKE ?", "%#{m[:text][/password: (\S+)/i, 1]}%").exists? }
end

again = LmsBulkUpload.plan(upload, settings, Canvas::Store.new.tap(&:close))
check("a second upload of the same file creates nobody") { again.summary[:create].zero? }
puts "ok: #{summary[:created]} created in #{database}"
