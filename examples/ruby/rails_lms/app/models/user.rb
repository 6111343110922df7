# frozen_string_literal: true

# A learner or an administrator (`admin`: may use the bulk upload screens). `profile` holds
# the optional profile fields as JSON; `email_key` is the engine's identity of the address.
class User < ApplicationRecord
  PROFILE = %w[phone_number unique_id country organisation language_code].freeze

  serialize :profile, JSON
  has_many :memberships, dependent: :delete_all
  has_many :groups, through: :memberships
  has_many :enrolments, dependent: :delete_all
  has_many :invitations, dependent: :delete_all

  before_validation { self.email_key = LmsBulkUpload.email_key(email) if email }
end
