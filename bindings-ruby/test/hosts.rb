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
