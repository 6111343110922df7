# frozen_string_literal: true

# Plain Ruby host objects for the tests: a store over Hashes that records every call, a
# journal over a Hash. What any Ruby host looks like: no base class, just the methods.
class HashStore
  attr_reader :users, :calls

  def initialize(groups: {}, content: [])
    @users = {}
    @groups = groups
    @content = content
    @calls = Hash.new(0)
    @next = 0
  end

  def find_users(emails)
    @calls[:find_users] += 1
    emails.filter_map { |e| @users[e.downcase] }
  end

  def find_groups(names)
    names.filter_map { |n| @groups[n] && { id: @groups[n], name: n } }
  end

  def find_content(refs)
    refs.select { |r| @content.include?([r[:kind], r[:id]]) }
  end

  def create_user(user)
    @calls[:create_user] += 1
    @calls[user[:email]] += 1
    @next += 1
    @users[user[:email].downcase] = { id: @next, email: user[:email], profile: user[:profile],
                                      groups: [], enrolments: [] }
    @next
  end

  def update_profile(id, changes)
    user(id)[:profile].merge!(changes)
  end

  def set_password(id, hash, force_reset)
    user(id)[:password_hash] = hash
    user(id)[:force_password_reset] = force_reset
  end

  def add_to_group(id, group)
    user(id)[:groups] |= [group[:name]]
  end

  def remove_from_group(id, group)
    user(id)[:groups] -= [group[:name]]
  end

  def enrol(id, content)
    user(id)[:enrolments] |= [content]
  end

  def checkpoint
    @calls[:checkpoint] += 1
  end

  private

  def user(id)
    @users.values.find { |u| u[:id].to_s == id } or raise KeyError, "no user #{id}"
  end
end

# A HashStore that can undo an upload's creations by suspending (and withdraw enrolments),
# but not delete: `suspend_user` and `withdraw`, no `delete_user`.
class SuspendingHashStore < HashStore
  def suspend_user(id)
    @calls[:suspend_user] += 1
    user(id)[:suspended] = true
  end

  def withdraw(id, content)
    @calls[:withdraw] += 1
    user(id)[:enrolments] -= [content]
  end
end

# One that deletes too: a user someone gave another group or enrolment since is kept
# (`delete_user` answers false) and the engine suspends it instead.
class DeletingHashStore < SuspendingHashStore
  def delete_user(id)
    @calls[:delete_user] += 1
    found = user(id)
    return false unless found[:groups].empty? && found[:enrolments].empty?

    @users.delete(found[:email].downcase)
    true
  end
end

# A journal: `load` answers line => nil (begun) or the finished row.
class HashJournal
  attr_reader :entries

  def initialize
    @entries = Hash.new { |h, k| h[k] = {} }
  end

  def load(fingerprint)
    @entries[fingerprint]
  end

  def begin(fingerprint, line)
    @entries[fingerprint][line] = nil
  end

  def finish(fingerprint, row)
    @entries[fingerprint][row[:line]] = row
  end
end

# A mailer that keeps what it is sent.
class ListMailer
  attr_reader :sent, :flushes

  def initialize
    @sent = []
    @flushes = 0
  end

  def send(message)
    @sent << message
  end

  def flush
    @flushes += 1
  end
end

module Csv
  def self.people(count, groups: nil)
    header = "firstname,lastname,emailaddress#{groups ? ',addgroup' : ''}\n"
    header + (1..count).map { |i| "P#{i},Q#{i},p#{i}@x.com#{groups ? ",#{groups}" : ''}\n" }.join
  end
end

# The screens' hooks: the administrator, records in a SQLite file (one connection, locked:
# the API calls from several threads; a file opened again keeps them), the catalog, and
# runs queued into a Ruby Queue when asked.
class SqliteHooks
  ADMIN = "admin@lms.test"
  PASSWORD = "correct horse battery staple"

  attr_reader :queued

  def initialize(path, queue: false)
    @db = SQLite3::Database.new(path.to_s)
    @db.execute("CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, key TEXT, " \
                "version INTEGER, doc TEXT, UNIQUE (kind, key))")
    @lock = Mutex.new
    @queued = Queue.new
    define_singleton_method(:enqueue_run) { |run_id| @queued << run_id } if queue
  end

  def authenticate(email, password)
    email == ADMIN && password == PASSWORD ? ADMIN : nil
  end

  def get_record(kind, id)
    row = @lock.synchronize { @db.get_first_row("SELECT version, doc FROM records WHERE kind = ? AND key = ?", [kind, id]) }
    row && { version: row[0], doc: JSON.parse(row[1]) }
  end

  def put_record(kind, id, doc, expected)
    text = JSON.generate(doc)
    @lock.synchronize do
      case expected
      when nil
        @db.execute("INSERT INTO records (kind, key, version, doc) VALUES (?, ?, 1, ?) ON CONFLICT (kind, key) " \
                    "DO UPDATE SET doc = excluded.doc, version = version + 1", [kind, id, text])
      when 0
        @db.execute("INSERT INTO records (kind, key, version, doc) VALUES (?, ?, 1, ?) ON CONFLICT DO NOTHING", [kind, id, text])
      else
        @db.execute("UPDATE records SET doc = ?, version = version + 1 WHERE kind = ? AND key = ? AND version = ?",
                    [text, kind, id, expected])
      end
      @db.changes == 1
    end
  end

  def list_records(kind, offset, limit)
    @lock.synchronize do
      total = @db.get_first_value("SELECT count(*) FROM records WHERE kind = ?", [kind])
      rows = @db.execute("SELECT key, doc FROM records WHERE kind = ? ORDER BY seq DESC LIMIT ? OFFSET ?", [kind, limit, offset])
      { total: total, items: rows.map { |key, doc| { id: key, doc: JSON.parse(doc) } } }
    end
  end

  def delete_record(kind, id)
    @lock.synchronize { @db.execute("DELETE FROM records WHERE kind = ? AND key = ?", [kind, id]) }
  end

  def catalog
    { groups: [{ id: 1, name: "Sales" }], content: [{ kind: "course", id: "c-101", title: "Induction" }] }
  end

  def everything
    @lock.synchronize { @db.execute("SELECT doc FROM records").join("\n") }
  end
end
