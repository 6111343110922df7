# frozen_string_literal: true

require "fileutils"

# The engine's mailer: each message as an .eml file in an outbox folder (EMAIL_OUTBOX), or
# in the log. A real LMS hands them to ActionMailer.
class OutboxMailer
  def initialize(folder, from: "LMS <no-reply@lms.example.com>")
    @folder = folder.to_s.empty? ? nil : folder
    @from = from
  end

  def send(message)
    boundary = SecureRandom.hex(12)
    eml = ["From: #{@from}", "To: #{message[:to]}", "Subject: #{message[:subject]}", "MIME-Version: 1.0",
           "Content-Type: multipart/alternative; boundary=\"#{boundary}\"", "",
           "--#{boundary}", "Content-Type: text/plain; charset=utf-8", "", message[:text],
           "--#{boundary}", "Content-Type: text/html; charset=utf-8", "", message[:html], "--#{boundary}--", ""].join("\r\n")
    return Rails.logger.info(eml) unless @folder

    FileUtils.mkdir_p(@folder)
    name = File.join(@folder, format("%020d-%s.eml", Process.clock_gettime(Process::CLOCK_REALTIME, :nanosecond), boundary[0, 8]))
    File.binwrite("#{name}.tmp", eml)
    File.rename("#{name}.tmp", name)
  end
end
