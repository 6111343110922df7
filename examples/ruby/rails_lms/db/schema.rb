# frozen_string_literal: true

# The LMS's tables (users, groups, memberships, content, enrolments, the sign-in links'
# invitations) and the screens' one table of records (bulk_upload_records: upload sessions,
# plans, runs, results, journals).
# Loaded by bin/seed; the same on SQLite and PostgreSQL.
ActiveRecord::Schema.define do
  create_table :users, if_not_exists: true do |t|
    t.string :email, null: false
    t.string :email_key, null: false, index: { unique: true }
    t.string :first_name, null: false, default: ""
    t.string :last_name, null: false, default: ""
    t.text :profile, null: false, default: "{}"
    t.string :password_hash
    t.boolean :force_password_reset, null: false, default: false
    t.boolean :admin, null: false, default: false
    t.boolean :protected, null: false, default: false
    t.boolean :suspended, null: false, default: false
    t.boolean :suspended_by_upload, null: false, default: false
    t.string :login_method, null: false, default: "password"
  end
  create_table :groups, if_not_exists: true do |t|
    t.string :name, null: false, index: { unique: true }
  end
  create_table :memberships, if_not_exists: true do |t|
    t.references :user, null: false, foreign_key: { on_delete: :cascade }
    t.references :group, null: false, foreign_key: true
    t.index %i[user_id group_id], unique: true
  end
  create_table :content_items, if_not_exists: true do |t|
    t.string :kind, null: false
    t.string :key, null: false
    t.string :title, null: false, default: ""
    t.index %i[kind key], unique: true
  end
  create_table :enrolments, if_not_exists: true do |t|
    t.references :user, null: false, foreign_key: { on_delete: :cascade }
    t.string :kind, null: false
    t.string :content_key, null: false
    t.index %i[user_id kind content_key], unique: true
  end
  # Sign-in links: the digest of the token (never the token), its expiry in Unix seconds,
  # the upload that issued it, used_at once redeemed; gone with their user.
  create_table :invitations, id: :string, primary_key: :digest, if_not_exists: true do |t|
    t.references :user, null: false, foreign_key: { on_delete: :cascade }
    t.string :upload, null: false
    t.bigint :expires_at, null: false
    t.datetime :used_at
  end
  # The hooks' record store (docs/web-host-protocol.md): id is the creation order.
  create_table :bulk_upload_records, if_not_exists: true do |t|
    t.string :kind, null: false
    t.string :key, null: false
    t.bigint :version, null: false
    t.text :doc, null: false
    t.index %i[kind key], unique: true
    t.index %i[kind id]
  end
end
