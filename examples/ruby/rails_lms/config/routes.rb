# frozen_string_literal: true

Rails.application.routes.draw do
  # The line a host adds: the screens, with its hooks, store and mailer (app/lms/bulk_upload_screens.rb).
  mount BulkUploadScreens.app => "/admin/bulk-upload"

  root to: proc { [200, { "content-type" => "text/plain" }, ["The example LMS: the bulk upload screens are at /admin/bulk-upload/\n"]] }
end
