# frozen_string_literal: true

# A user enrolled in a content item (`kind`, `content_key`).
class Enrolment < ApplicationRecord
  belongs_to :user
end
