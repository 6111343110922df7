# frozen_string_literal: true

# A sign-in link an upload emailed: only the SHA-256 digest of its token (64 hex characters,
# the primary key), never the token; its expiry (Unix seconds), the upload (plan fingerprint)
# that issued it, for undo, and when it was used (nil: still unused).
class Invitation < ApplicationRecord
  self.primary_key = "digest"
  belongs_to :user
end
