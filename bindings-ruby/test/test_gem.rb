# frozen_string_literal: true

# The gem: `gem build` offline from the tree, installed into an empty GEM_HOME, then
# required by a program that has no load path, no LD_LIBRARY_PATH and no override: it finds
# its native library inside the installed gem.
require_relative "test_helper"
require "open3"
require "rbconfig"

class TestGem < Minitest::Test
  GEM_DIR = TestPaths::ROOT.join("bindings-ruby")

  def test_the_gem_builds_installs_and_loads_its_native_library_by_itself
    Dir.mktmpdir do |dir|
      gem = File.join(dir, "lms_bulk_upload.gem")
      env = { "LMS_BULK_UPLOAD_NATIVE_LIB" => nil, "RUBYLIB" => nil, "RUBYOPT" => nil, "LD_LIBRARY_PATH" => nil }
      _, err, status = Open3.capture3(env, "gem", "build", "lms_bulk_upload.gemspec", "-o", gem, chdir: GEM_DIR.to_s)
      assert status.success?, err

      home = File.join(dir, "home")
      # ffi comes from the system's gems (Debian's ruby-ffi); nothing is downloaded.
      gem_env = env.merge("GEM_HOME" => home, "GEM_PATH" => [home, *Gem.default_path].join(File::PATH_SEPARATOR))
      _, err, status = Open3.capture3(gem_env, "gem", "install", "--local", "--no-document", gem, chdir: dir)
      assert status.success?, err

      program = <<~RUBY
        require "lms_bulk_upload"
        upload = LmsBulkUpload.parse("firstname,lastname,emailaddress\\nAna,Lopez,ana@x.com\\n")
        puts [upload.size, $LOADED_FEATURES.grep(/lms_bulk_upload_native/).first].join(" ")
      RUBY
      out, err, status = Open3.capture3(gem_env, RbConfig.ruby, "-e", program, chdir: dir)
      assert status.success?, err
      count, loaded = out.split
      assert_equal "1", count
      assert loaded.start_with?(File.join(home, "gems")), "loaded from #{loaded}"
      assert File.file?(File.join(File.dirname(loaded), "liblms_bulk_upload_ruby.#{FFI::Platform::LIBSUFFIX}"))
    end
  end
end
