# frozen_string_literal: true

# examples/ruby/: the Canvas-style ActiveRecord host run end to end, as a program (it checks
# its own results) and in-process (the database after a run with a batch failing halfway,
# and after an upload undone).
require_relative "test_helper"
require "open3"
require "rbconfig"

class TestExamples < Minitest::Test
  EXAMPLES = TestPaths::ROOT.join("examples/ruby")
  LIB = TestPaths::ROOT.join("bindings-ruby/lib")

  def run_ruby(*args, chdir:)
    Open3.capture3(RbConfig.ruby, "-I", LIB.to_s, *args, chdir: chdir.to_s)
  end

  def test_the_canvas_upload_runs_to_completion_on_a_sqlite_file
    Dir.mktmpdir do |dir|
      database = File.join(dir, "canvas.sqlite3")
      out, err, status = run_ruby(EXAMPLES.join("canvas_upload.rb").to_s, database, chdir: dir)
      assert status.success?, err
      assert_match(/^ok: 45 created/, out)
      assert File.size?(database), "the SQLite file holds the upload"
    end
  end

  def test_a_failing_write_rolls_back_nothing_but_its_own_row_and_the_rest_is_committed
    require EXAMPLES.join("canvas_store").to_s
    Dir.mktmpdir do |dir|
      Canvas.connect(File.join(dir, "db.sqlite3"))
      Canvas::Group.create!(name: "Sales")
      Canvas::Course.create!(sis_course_id: "C1")
      store = Canvas::Store.new
      def store.enrol(user_id, content)
        raise ActiveRecord::RecordInvalid, Canvas::User.new if Canvas::User.find(user_id).email == "p3@x.com"

        super
      end
      csv = "firstname,lastname,emailaddress,addgroup\n" + (1..6).map { |i| "P#{i},Q#{i},p#{i}@x.com,Sales\n" }.join
      settings = LmsBulkUpload::Settings.new(generate_passwords: true, send_notification_email: true,
                                             enrolments: [{ kind: "course", id: "C1" }])
      plan = LmsBulkUpload.plan(LmsBulkUpload.parse(csv), settings, store)
      mailer = Canvas::QueueingMailer.new
      results = plan.execute(store, mailer, hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0, batch_size: 2)
      store.close
      assert_equal %w[created created failed created created created], results.rows.map { |r| r[:status] }
      assert_equal 6, Canvas::User.count, "p3 was created before its enrolment failed"
      assert_equal 5, Canvas::Enrollment.count
      assert_equal 6, Canvas::GroupMembership.count
      assert_equal ["C1"], Canvas::Enrollment.joins(:course).distinct.pluck("courses.sis_course_id")
      assert_equal 5, mailer.deliveries.size, "the failed row's welcome is not sent"
      assert(Canvas::User.pluck(:id).all? { |id| results.rows.map { |r| r[:user_id] }.include?(id.to_s) })
    ensure
      ActiveRecord::Base.remove_connection
    end
  end

  TABLES = %w[users groups group_memberships courses enrollments].freeze

  # Every row of every table, without the ids ActiveRecord gives (memberships and
  # enrolments by the user's email and the group's name or the course's SIS id).
  def tables
    users = Canvas::User.all.to_h { |u| [u.id, u.email] }
    groups = Canvas::Group.all.to_h { |g| [g.id, g.name] }
    courses = Canvas::Course.all.to_h { |c| [c.id, c.sis_course_id] }
    {
      "users" => Canvas::User.all.map { |u| u.attributes.except("id") },
      "groups" => groups.values,
      "group_memberships" => Canvas::GroupMembership.all.map { |m| [users[m.user_id], groups[m.group_id]] },
      "courses" => courses.values,
      "enrollments" => Canvas::Enrollment.all.map { |e| [users[e.user_id], courses[e.course_id], e.type_name] }
    }.transform_values { |rows| rows.sort_by(&:to_s) }
  end

  # A Canvas database with an existing user (in Support, enrolled in C2, no phone number),
  # and an upload that creates four users and changes the existing one: groups, a course,
  # a first name and a phone number.
  def upload_into_canvas(dir)
    require EXAMPLES.join("canvas_store").to_s
    Canvas.connect(File.join(dir, "db.sqlite3"))
    %w[Sales Support].each { |name| Canvas::Group.create!(name: name) }
    %w[C1 C2].each { |id| Canvas::Course.create!(sis_course_id: id) }
    old = Canvas::User.create!(email: "Old@x.com", email_key: "old@x.com", first_name: "Old", last_name: "Timer",
                               password_hash: "$argon2id$kept")
    Canvas::GroupMembership.create!(user: old, group: Canvas::Group.find_by!(name: "Support"))
    Canvas::Enrollment.create!(user: old, course: Canvas::Course.find_by!(sis_course_id: "C2"))
    before = tables
    csv = "firstname,lastname,emailaddress,phone\nOlivia,Timer,old@x.com,021 555\n" +
          (1..4).map { |i| "P#{i},Q#{i},p#{i}@x.com,\n" }.join
    settings = LmsBulkUpload::Settings.new(generate_passwords: true, groups: ["Sales"], enrol_existing_users: true,
                                           update_existing_profiles: true, enrolments: [{ kind: "course", id: "C1" }])
    store = Canvas::Store.new
    results = LmsBulkUpload.plan(LmsBulkUpload.parse(csv), settings, store)
                           .execute(store, Canvas::QueueingMailer.new, hash_params: TestPaths::CHEAP_HASH, batch_size: 2)
    store.close
    assert_equal({ created: 4, updated: 1, failed: 0 }, results.summary.slice(:created, :updated, :failed))
    assert_equal "021 555", Canvas::User.find(old.id).phone_number
    [before, results]
  end

  def undo_canvas(results, **options)
    store = Canvas::Store.new
    plan = LmsBulkUpload.plan_undo(results, store, **options)
    undone = plan.execute(store, Canvas::QueueingMailer.new, hash_params: TestPaths::CHEAP_HASH, batch_size: 2)
    store.close
    assert_equal results.fingerprint, undone.undo_of
    assert_equal 0, undone.summary[:failed]
    undone
  end

  def test_an_upload_undone_leaves_the_tables_as_before_but_for_the_new_users_suspended
    Dir.mktmpdir do |dir|
      before, results = upload_into_canvas(dir)
      undo_canvas(results)
      after = tables
      TABLES.each { |t| assert_equal before[t], after[t], t unless t == "users" }
      created = after["users"] - before["users"]
      assert_equal before["users"], after["users"] - created, "the existing user as it was (first name, no phone)"
      assert_equal %w[p1@x.com p2@x.com p3@x.com p4@x.com], created.map { |u| u["email"] }.sort
      assert(created.all? { |u| u["suspended"] })
      refute Canvas::User.find_by!(email_key: "old@x.com").suspended
    ensure
      ActiveRecord::Base.remove_connection
    end
  end

  def test_deleting_the_created_users_leaves_the_tables_as_before_but_for_a_user_the_lms_keeps
    Dir.mktmpdir do |dir|
      before, results = upload_into_canvas(dir)
      # Since the upload, a teacher enrolled p2 in C2: the LMS keeps p2 (suspended).
      Canvas::Enrollment.create!(user: Canvas::User.find_by!(email_key: "p2@x.com"),
                                 course: Canvas::Course.find_by!(sis_course_id: "C2"))
      undone = undo_canvas(results, delete_created_users: true)
      after = tables
      %w[groups group_memberships courses].each { |t| assert_equal before[t], after[t], t }
      assert_equal before["enrollments"] + [["p2@x.com", "C2", "StudentEnrollment"]], after["enrollments"]
      kept = after["users"] - before["users"]
      assert_equal before["users"], after["users"] - kept
      assert_equal [["p2@x.com", true]], kept.map { |u| [u["email"], u["suspended"]] }
      ops = undone.rows.to_h { |r| [r[:email], r[:done].last[:op]] }
      assert_equal({ "p1@x.com" => "delete_user", "p2@x.com" => "suspend_user" }, ops.slice("p1@x.com", "p2@x.com"))
    ensure
      ActiveRecord::Base.remove_connection
    end
  end
end
