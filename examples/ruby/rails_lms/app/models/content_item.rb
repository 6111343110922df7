# frozen_string_literal: true

# A course, collection or campaign (`kind`), known by its `key`.
class ContentItem < ApplicationRecord
end
