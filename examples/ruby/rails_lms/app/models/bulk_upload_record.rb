# frozen_string_literal: true

# A record of the bulk upload screens: a JSON document (`doc`) under a kind and a key, with a
# version that grows by one at each write (docs/web-host-protocol.md).
class BulkUploadRecord < ApplicationRecord
end
