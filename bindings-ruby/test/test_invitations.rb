# frozen_string_literal: true

# Sign-in links through the public API: the send_invitations setting, the link in the
# message (never a password), LmsBulkUpload.verify_invitation / redeem_invitation with their
# codes, and a Ruby host store keeping only digests through the host protocol.
require_relative "test_helper"
require_relative "hosts"

# A HashStore with the four invitation methods, keeping digests in a Hash.
class LinkStore < HashStore
  attr_reader :links

  def initialize(...)
    super
    @links = {}
  end

  def add_invitation(invitation)
    @links.delete_if do |_, l|
      l[:user] == invitation[:user] && !l[:used] && l[:upload] != invitation[:upload]
    end
    @links[invitation[:digest]] = invitation.merge(used: false)
  end

  def find_invitation(digest)
    @links[digest]
  end

  def redeem_invitation(digest)
    link = @links[digest]
    return false if link.nil? || link[:used]

    link[:used] = true
    @links.delete_if { |_, l| l[:user] == link[:user] && !l[:used] }
    true
  end

  def revoke_invitations(_user, _upload); end
end

class TestInvitations < Minitest::Test
  OPTIONS = { hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0 }.freeze
  CSV_TEXT = "firstname,lastname,email\nAna,Lee,ana@x.com\nBo,Chan,bo@x.com\n"

  def token_of(message)
    link = message[:fields][:invitation_url]
    refute message[:fields].key?(:password)
    assert_includes message[:text], link
    link.split("/").last
  end

  def test_the_setting_and_its_rules
    settings = LmsBulkUpload::Settings.new(send_invitations: true).to_h
    assert settings[:send_invitations]
    refute settings[:generate_passwords]
    error = assert_raises(LmsBulkUpload::SettingsError) do
      LmsBulkUpload::Settings.new(send_invitations: true, send_notification_email: false)
    end
    assert_equal "notification_required_for_invitations", error.code
  end

  def test_links_verify_and_work_once_with_a_memory_store
    store = LmsBulkUpload::MemoryStore.new
    mailer = LmsBulkUpload::RecordingMailer.new
    settings = LmsBulkUpload::Settings.new(send_invitations: true)
    plan = LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), settings, store)
    assert_equal 2, plan.summary[:invitations]
    results = plan.execute(store, mailer, **OPTIONS)
    token = token_of(mailer.messages[0])
    refute_includes results.to_json, token
    user = LmsBulkUpload.verify_invitation(store, token)
    assert_equal user, LmsBulkUpload.redeem_invitation(store, token)
    error = assert_raises(LmsBulkUpload::InvitationError) { LmsBulkUpload.redeem_invitation(store, token) }
    assert_equal "invitation_used", error.code
    error = assert_raises(LmsBulkUpload::InvitationError) do
      LmsBulkUpload.verify_invitation(store, token_of(mailer.messages[1]), now: 2**62)
    end
    assert_equal "invitation_expired", error.code
    error = assert_raises(LmsBulkUpload::InvitationError) { LmsBulkUpload.verify_invitation(store, "nope") }
    assert_equal "invitation_unknown", error.code
  end

  def test_a_ruby_store_keeps_only_digests
    store = LinkStore.new
    mailer = ListMailer.new
    settings = LmsBulkUpload::Settings.new(send_invitations: true)
    LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), settings, store).execute(store, mailer, **OPTIONS)
    token = token_of(mailer.sent[0])
    assert_equal 2, store.links.size
    store.links.each do |digest, link|
      assert_match(/\A[0-9a-f]{64}\z/, digest)
      refute_includes link.to_s, token
    end
    assert_equal "1", LmsBulkUpload.verify_invitation(store, token)
    assert_equal "1", LmsBulkUpload.redeem_invitation(store, token)
    error = assert_raises(LmsBulkUpload::InvitationError) { LmsBulkUpload.verify_invitation(store, token) }
    assert_equal "invitation_used", error.code
  end

  def test_a_store_without_the_methods_is_refused_when_planned
    settings = LmsBulkUpload::Settings.new(send_invitations: true)
    error = assert_raises(LmsBulkUpload::StoreError) do
      LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), settings, HashStore.new)
    end
    assert_equal "host_method_missing", error.code
  end
end
