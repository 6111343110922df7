# frozen_string_literal: true

# examples/ruby/: the Canvas-style ActiveRecord host run end to end, as a program (it checks
# its own results) and in-process (the database after a run with a batch failing halfway).
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
end
