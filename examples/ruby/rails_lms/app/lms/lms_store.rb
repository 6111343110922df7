# frozen_string_literal: true

# The engine's store on the LMS's models: every method of the host protocol
# (docs/host-protocol.md), undo's and sign-in links' included. Each call checks a connection out of
# ActiveRecord's pool for its own time (a call may come on ruby-ffi's callback thread).
class LmsStore
  include PooledSql

  def find_users(emails)
    keys = emails.map { |e| LmsBulkUpload.email_key(e) }
    db { records(User.where(email_key: keys)) }
  end

  def find_groups(names)
    db { Group.where(name: names).map { |g| { id: g.id.to_s, name: g.name } } }
  end

  def find_content(refs)
    db do
      known = ContentItem.pluck(:kind, :key).to_set
      refs.select { |r| known.include?([r[:kind], r[:id].to_s]) }
    end
  end

  def all_group_names
    db { Group.order(:name).pluck(:name) }
  end

  def scope_users(after, limit)
    db do
      users = records(User.where(admin: false).where("users.id > ?", after.to_i).order(:id).limit(limit))
      { users: users, next: users.size == limit ? users.last[:id] : nil }
    end
  end

  def create_user(user)
    profile = user[:profile]
    db do
      User.create!(email: user[:email], first_name: profile[:first_name].to_s, last_name: profile[:last_name].to_s,
                   profile: profile.slice(*User::PROFILE.map(&:to_sym)).compact.transform_keys(&:to_s),
                   password_hash: user[:password_hash], force_password_reset: user[:force_password_reset],
                   login_method: user[:login_method] || "password").id.to_s
    end
  end

  def update_profile(id, changes)
    db do
      u = User.find(id)
      u.first_name = changes[:first_name] if changes.key?(:first_name)
      u.last_name = changes[:last_name] if changes.key?(:last_name)
      extra = changes.slice(*User::PROFILE.map(&:to_sym)).transform_keys(&:to_s)
      u.profile = u.profile.merge(extra)
      u.save!
    end
  end

  def set_password(id, hash, force_reset)
    db { User.where(id: id).update_all(password_hash: hash, force_password_reset: force_reset) }
  end

  def add_to_group(id, group)
    db { Membership.insert_all([{ user_id: id.to_i, group_id: group[:id].to_i }]) }
  end

  def remove_from_group(id, group)
    db { Membership.where(user_id: id, group_id: group[:id]).delete_all }
  end

  def enrol(id, content)
    db { Enrolment.insert_all([{ user_id: id.to_i, kind: content[:kind], content_key: content[:id].to_s }]) }
  end

  def withdraw(id, content)
    db { Enrolment.where(user_id: id, kind: content[:kind], content_key: content[:id].to_s).delete_all }
  end

  def suspend_user(id)
    db { User.where(id: id).update_all(suspended: true, suspended_by_upload: true) }
  end

  def reactivate_user(id)
    db { User.where(id: id).update_all(suspended: false, suspended_by_upload: false) }
  end

  def delete_user(id)
    db { User.where(id: id).destroy_all }
    true
  end

  def set_login_method(id, method)
    db { User.where(id: id).update_all(login_method: method) }
  end

  # ---- sign-in links (Invitation): the digest and expiry kept, never the token. Plain SQL
  # statements, a write first in each transaction: SQLite then waits its busy timeout for
  # another writer instead of failing, and PostgreSQL's row lock orders concurrent ones.

  # A newer link revokes the user's unused ones from other uploads (a resumed run's earlier
  # link for this upload keeps working).
  def add_invitation(invitation)
    user = Integer(invitation[:user])
    db do |c|
      c.transaction do
        c.exec_delete(sql("DELETE FROM invitations WHERE user_id = ? AND used_at IS NULL AND upload <> ?",
                          user, invitation[:upload]))
        c.exec_update(sql("INSERT INTO invitations (digest, user_id, upload, expires_at) VALUES (?, ?, ?, ?) " \
                          "ON CONFLICT (digest) DO UPDATE SET user_id = excluded.user_id, upload = excluded.upload, " \
                          "expires_at = excluded.expires_at",
                          invitation[:digest], user, invitation[:upload], Integer(invitation[:expires_at])))
      end
    end
    nil
  end

  def find_invitation(digest)
    row = db { Invitation.where(digest: digest.to_s).pick(:user_id, :digest, :expires_at, :used_at) }
    row && { user: row[0].to_s, digest: row[1], expires_at: row[2].to_i, used: !row[3].nil? }
  end

  # Single use, atomic: one UPDATE marks the link used only if it is unused and unexpired (of
  # two concurrent redemptions one updates the row, the other finds it used), and the user's
  # other unused links go in the same transaction.
  def redeem_invitation(digest)
    now = Time.now
    db do |c|
      c.transaction do
        used = c.exec_update(sql("UPDATE invitations SET used_at = ? WHERE digest = ? AND used_at IS NULL AND expires_at > ?",
                                 now.utc, digest.to_s, now.to_i)) == 1
        if used
          c.exec_delete(sql("DELETE FROM invitations WHERE used_at IS NULL AND " \
                            "user_id = (SELECT user_id FROM invitations WHERE digest = ?)", digest.to_s))
        end
        used
      end
    end
  end

  # Undo: the upload's unused links of the user.
  def revoke_invitations(id, upload)
    db { Invitation.where(user_id: id.to_i, upload: upload.to_s, used_at: nil).delete_all }
    nil
  end

  private

  # User records as the engine reads them (one query each for groups and enrolments).
  def records(scope)
    users = scope.to_a
    ids = users.map(&:id)
    groups = Membership.joins(:group).where(user_id: ids).pluck(:user_id, "groups.name").group_by(&:first)
    enrolments = Enrolment.where(user_id: ids).pluck(:user_id, :kind, :content_key).group_by(&:first)
    users.map do |u|
      { id: u.id.to_s, email: u.email, first_name: u.first_name.presence, last_name: u.last_name.presence,
        **User::PROFILE.to_h { |f| [f.to_sym, u.profile[f].presence] },
        groups: (groups[u.id] || []).map(&:last),
        enrolments: (enrolments[u.id] || []).map { |_, kind, key| { kind: kind, id: key } },
        protected: u.protected || u.admin, suspended: u.suspended, suspended_by_upload: u.suspended_by_upload,
        login_method: u.login_method }
    end
  end
end
