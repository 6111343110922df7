# frozen_string_literal: true

# The Ruby snippets of the READMEs (README.md at the root and bindings-ruby/README.md) run,
# each as its own program in an empty folder; a snippet raises when what it shows does not
# happen.
require_relative "test_helper"
require "open3"
require "rbconfig"

class TestReadme < Minitest::Test
  READMES = [TestPaths::ROOT.join("README.md"), TestPaths::ROOT.join("bindings-ruby/README.md")].freeze
  BLOCK = /^```ruby\n(.*?)^```/m

  def self.snippets
    READMES.flat_map do |readme|
      readme.read.scan(BLOCK).each_with_index.map { |(code), i| ["#{readme.relative_path_from(TestPaths::ROOT)}##{i}", code] }
    end
  end

  def test_each_readme_has_a_ruby_snippet
    assert_equal READMES.map { |r| r.relative_path_from(TestPaths::ROOT).to_s }.sort,
                 self.class.snippets.map { |name, _| name.split("#").first }.uniq.sort
  end

  snippets.each do |name, code|
    define_method("test_snippet_#{name.tr('^a-zA-Z0-9', '_')}") do
      Dir.mktmpdir do |dir|
        lib = TestPaths::ROOT.join("bindings-ruby/lib").to_s
        out, err, status = Open3.capture3(RbConfig.ruby, "-I", lib, "-e", code, chdir: dir)
        assert status.success?, "#{name} failed:\n#{err}\n#{out}"
      end
    end
  end
end
