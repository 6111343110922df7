# frozen_string_literal: true

# A host store for lms_bulk_upload over ActiveRecord, shaped like a Canvas-style Rails LMS:
# User, Group (through GroupMembership), Course and Enrollment models on SQLite.
#
# This is what a Rails LMS embeds: its own models behind the store's methods. Lookups are
# batched (one query per call, many emails), writes happen per user, and `checkpoint`
# commits, so every batch of rows is one transaction. `suspend_user`, `delete_user` and
# `withdraw` let LmsBulkUpload.plan_undo reverse an upload. `canvas_upload.rb` runs a whole upload.

require "active_record"
require "lms_bulk_upload"

module Canvas
  PROFILE = %i[first_name last_name phone_number unique_id country organisation language_code].freeze

  # Connects ActiveRecord to the SQLite file at `path` and creates the tables if needed.
  def self.connect(path)
    ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: path)
    ActiveRecord::Migration.verbose = false
    ActiveRecord::Schema.define do
      create_table :users, if_not_exists: true do |t|
        t.string :email, null: false
        t.string :email_key, null: false, index: { unique: true }
        PROFILE.each { |f| t.string f }
        t.string :password_hash
        t.boolean :force_password_reset, null: false, default: false
        t.boolean :site_admin, null: false, default: false
        t.boolean :suspended, null: false, default: false
      end
      create_table :groups, if_not_exists: true do |t|
        t.string :name, null: false, index: { unique: true }
      end
      create_table :group_memberships, if_not_exists: true do |t|
        t.references :user, null: false
        t.references :group, null: false
        t.index %i[user_id group_id], unique: true
      end
      create_table :courses, if_not_exists: true do |t|
        t.string :sis_course_id, null: false, index: { unique: true }
        t.string :name
      end
      create_table :enrollments, if_not_exists: true do |t|
        t.references :user, null: false
        t.references :course, null: false
        t.string :type_name, null: false, default: "StudentEnrollment"
        t.index %i[user_id course_id], unique: true
      end
    end
  end

  class User < ActiveRecord::Base
    has_many :group_memberships, dependent: :destroy
    has_many :groups, through: :group_memberships
    has_many :enrollments, dependent: :destroy
    has_many :courses, through: :enrollments
  end

  class Group < ActiveRecord::Base
    has_many :group_memberships, dependent: :destroy
    has_many :users, through: :group_memberships
  end

  class GroupMembership < ActiveRecord::Base
    belongs_to :user
    belongs_to :group
  end

  class Course < ActiveRecord::Base
    has_many :enrollments, dependent: :destroy
  end

  class Enrollment < ActiveRecord::Base
    belongs_to :user
    belongs_to :course
  end

  # The engine's identity of an address (lowercase, IDNA domain); so is this store's.
  def self.email_key(email)
    LmsBulkUpload.email_key(email)
  end

  # The store's methods over the models (courses are the only content kind this LMS has;
  # a course is referred to by its SIS id). Call `close` when done: it commits.
  class Store
    def initialize
      @connection = ActiveRecord::Base.connection
      @connection.begin_transaction(joinable: true)
    end

    # -- reads (batched) ------------------------------------------------------------------
    def find_users(emails)
      keys = emails.map { |e| Canvas.email_key(e) }.uniq
      User.where(email_key: keys).includes(:groups, :courses).map do |user|
        {
          id: user.id, # an Integer: the engine turns it into text and gives it back
          email: user.email,
          profile: PROFILE.to_h { |f| [f, user[f]] },
          groups: user.groups.map(&:name),
          enrolments: user.courses.map { |c| { kind: "course", id: c.sis_course_id } },
          protected: user.site_admin,
          suspended: user.suspended
        }
      end
    end

    def find_groups(names)
      Group.where(name: names).map { |g| { id: g.id, name: g.name } }
    end

    def find_content(refs)
      ids = refs.select { |r| r[:kind] == "course" }.map { |r| r[:id] }
      known = Course.where(sis_course_id: ids).pluck(:sis_course_id)
      refs.select { |r| r[:kind] == "course" && known.include?(r[:id]) }
    end

    def all_group_names
      Group.pluck(:name)
    end

    # -- writes ---------------------------------------------------------------------------
    def create_user(user)
      profile = user[:profile].slice(*PROFILE)
      User.create!(email: user[:email], email_key: Canvas.email_key(user[:email]), **profile,
                   password_hash: user[:password_hash], force_password_reset: user[:force_password_reset]).id
    end

    # An empty value clears the field (undo restores a field that was empty that way).
    def update_profile(user_id, changes)
      User.find(user_id).update!(changes.slice(*PROFILE).transform_values(&:presence))
    end

    def set_password(user_id, password_hash, force_reset)
      User.find(user_id).update!(password_hash: password_hash, force_password_reset: force_reset)
    end

    def add_to_group(user_id, group)
      GroupMembership.find_or_create_by!(user_id: user_id, group_id: group[:id])
    end

    def remove_from_group(user_id, group)
      GroupMembership.where(user_id: user_id, group_id: group[:id]).delete_all
    end

    def enrol(user_id, content)
      course = Course.find_by!(sis_course_id: content[:id])
      Enrollment.find_or_create_by!(user_id: user_id, course_id: course.id)
    end

    # -- undo (optional: an LMS without them cannot undo what needs them) -------------------
    # Suspended users are kept out of logins by the LMS.
    def suspend_user(user_id)
      User.find(user_id).update!(suspended: true)
    end

    # Deletes the user unless something the upload did not give it is attached (the engine
    # has withdrawn the upload's enrolments and groups first); false keeps it, and the
    # engine suspends it instead.
    def delete_user(user_id)
      user = User.find(user_id)
      return false if user.group_memberships.exists? || user.enrollments.exists?

      user.destroy!
      true
    end

    def withdraw(user_id, content)
      course = Course.find_by(sis_course_id: content[:id]) or return
      Enrollment.where(user_id: user_id, course_id: course.id).delete_all
    end

    # Commits the batch so far (the engine calls it after every batch).
    def checkpoint
      @connection.commit_transaction
      @connection.begin_transaction(joinable: true)
    end

    def close
      @connection.commit_transaction if @connection.transaction_open?
    end
  end

  # A mailer that queues messages and delivers them on `flush` (the engine flushes after
  # every batch, before the store's checkpoint): `deliveries` stands for the SMTP relay.
  class QueueingMailer
    attr_reader :deliveries

    def initialize
      @queue = []
      @deliveries = []
    end

    def send(message)
      @queue << message.slice(:to, :subject, :text)
    end

    def flush
      @deliveries.concat(@queue)
      @queue.clear
    end
  end
end
