# frozen_string_literal: true

# `puma -C config/puma.rb` (or any Rack server) serves this Rails app.
require_relative "config/environment"

run Rails.application
