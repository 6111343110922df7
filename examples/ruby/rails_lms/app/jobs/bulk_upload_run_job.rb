# frozen_string_literal: true

# A run of the bulk upload screens, queued by LmsHooks#enqueue_run: on Sidekiq with Redis,
# else on ActiveJob's async adapter in the web process.
class BulkUploadRunJob < ActiveJob::Base
  queue_as { ENV.fetch("BULK_UPLOAD_QUEUE", "bulk_upload") }

  def perform(run_id)
    # Another worker's heartbeat is fresh: wait, and take the run over if that worker died.
    loop do
      outcome = BulkUploadScreens.app.api.run(run_id)
      return outcome unless outcome == "busy"

      sleep 1
    end
  end
end
