# frozen_string_literal: true

# A Ruby process ends once a run on the WebApi's own thread has ended, not under it: a child
# `ruby` (test/own_thread_child.rb) approves a run whose hooks have no `enqueue_run`, or
# resumes an unfinished one, and lets its main thread end at once. It must exit by itself
# with code 0 (killed, and the test failed, if still running after 60 s), the run finished
# and every user written in its files.
require_relative "test_helper"
require_relative "own_thread_child"
require "sqlite3"
require "timeout"

class TestProcessExit < Minitest::Test
  CHILD = File.expand_path("own_thread_child.rb", __dir__)
  ROWS = OwnThreadChild::ROWS

  def setup
    @dir = Dir.mktmpdir
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end

  # Runs the child in `mode`; what it printed last (as JSON), once it has exited with code 0.
  def child(mode)
    out = File.join(@dir, "#{mode}.out")
    err = File.join(@dir, "#{mode}.err")
    pid = Process.spawn(RbConfig.ruby, CHILD, @dir, mode, out: out, err: err, chdir: File.expand_path("..", __dir__))
    status = begin
      Timeout.timeout(60) { Process.wait2(pid)[1] }
    rescue Timeout::Error
      Process.kill(:KILL, pid)
      Process.wait(pid)
      flunk("the process did not exit on its own (killed after 60 s):\n#{File.read(out)}\n#{File.read(err)}")
    end
    assert_equal 0, status.exitstatus, "#{status.inspect}\n#{File.read(out)}\n#{File.read(err)}"
    JSON.parse(File.read(out).lines.last)
  end

  def run_record(run_id)
    db = SQLite3::Database.new(File.join(@dir, "records.sqlite3"))
    JSON.parse(db.get_first_value("SELECT doc FROM records WHERE kind = 'run' AND key = ?", [run_id]))
  ensure
    db&.close
  end

  def assert_every_user_written(run_id)
    run = run_record(run_id)
    assert_equal "finished", run["state"], run.inspect
    assert_equal [ROWS, ROWS], [run["done"], run["counts"]["created"]], run.inspect
    db = SQLite3::Database.new(File.join(@dir, "lms.sqlite3"))
    assert_equal Array.new(ROWS) { |i| "user#{i}@example.com" }, db.execute("SELECT email FROM users ORDER BY id").flatten
  ensure
    db&.close
  end

  def test_the_process_waits_for_a_run_on_the_apis_own_thread
    queued = child("approve")
    assert_equal "queued", queued["state"]
    assert_every_user_written(queued["run"])
  end

  def test_the_process_waits_for_a_resumed_run
    queued = child("queue")
    assert_equal "queued", run_record(queued["run"])["state"]
    assert_equal [queued["run"]], child("resume")["resumed"]
    assert_every_user_written(queued["run"])
  end
end
