# frozen_string_literal: true

require "openssl"

# The screens' hooks (docs/web-host-protocol.md): the LMS's administrators, the records table
# (BulkUploadRecord), what the settings screen offers, and the run queued as an ActiveJob.
class LmsHooks
  include PooledSql

  # The LMS's own password hashes for its administrators (scrypt); a hash an upload set is
  # the engine's argon2id.
  def self.hash_password(password)
    salt = SecureRandom.bytes(16)
    "scrypt$#{salt.unpack1('H*')}$#{scrypt(password, salt).unpack1('H*')}"
  end

  def self.check_password(stored, password)
    return LmsBulkUpload.verify_password(stored, password) if stored.to_s.start_with?("$argon2id$")

    scheme, salt, hash = stored.to_s.split("$")
    actual = scrypt(password, [salt.to_s].pack("H*"))
    scheme == "scrypt" && ActiveSupport::SecurityUtils.secure_compare(actual, [hash.to_s].pack("H*"))
  end

  def self.scrypt(password, salt)
    OpenSSL::KDF.scrypt(password.to_s, salt: salt, N: 2**14, r: 8, p: 1, length: 32)
  end

  DECOY = hash_password(SecureRandom.hex(16)) # an unknown email takes as long as a wrong password

  def authenticate(email, password)
    user = db { User.find_by(email_key: LmsBulkUpload.email_key(email), admin: true, suspended: false) }
    ok = LmsHooks.check_password(user&.password_hash || DECOY, password)
    ok && user ? user.email : nil
  end

  def get_record(kind, id)
    record = db { BulkUploadRecord.find_by(kind: kind, key: id) }
    record && { version: record.version, doc: JSON.parse(record.doc) }
  end

  # One statement each: an upsert, an insert that ignores a conflict, an update at a version.
  def put_record(kind, id, doc, expected)
    json = JSON.generate(doc)
    db do |c|
      if expected.nil?
        c.exec_update(sql("INSERT INTO bulk_upload_records (kind, key, version, doc) VALUES (?, ?, 1, ?) " \
                          "ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc, version = bulk_upload_records.version + 1",
                          kind, id, json))
        true
      elsif expected.zero?
        c.exec_update(sql("INSERT INTO bulk_upload_records (kind, key, version, doc) VALUES (?, ?, 1, ?) " \
                          "ON CONFLICT (kind, key) DO NOTHING", kind, id, json)) == 1
      else
        BulkUploadRecord.where(kind: kind, key: id, version: expected)
                        .update_all(["doc = ?, version = version + 1", json]) == 1
      end
    end
  end

  def list_records(kind, offset, limit)
    db do
      scope = BulkUploadRecord.where(kind: kind)
      items = scope.order(id: :desc).offset(offset).limit(limit).pluck(:key, :doc)
      { total: scope.count, items: items.map { |key, doc| { id: key, doc: JSON.parse(doc) } } }
    end
  end

  def delete_record(kind, id)
    db { BulkUploadRecord.where(kind: kind, key: id).delete_all }
    nil
  end

  def catalog
    db do
      { groups: Group.order(:name).map { |g| { id: g.id.to_s, name: g.name } },
        content: ContentItem.order(:kind, :title).map { |c| { kind: c.kind, id: c.key, title: c.title } } }
    end
  end

  # The run as an ActiveJob (Sidekiq with Redis, else the async adapter): the job calls
  # the screens' `api.run(run_id)`.
  def enqueue_run(run_id)
    BulkUploadRunJob.perform_later(run_id)
    nil
  end
end
