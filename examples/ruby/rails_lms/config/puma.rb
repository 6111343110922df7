# frozen_string_literal: true

# `puma -C config/puma.rb`: one process, threads for the requests (each event stream of a
# run's page holds one while it is open).
threads 4, 16
bind "tcp://127.0.0.1:#{ENV.fetch('PORT', 3000)}"
rackup File.expand_path("../config.ru", __dir__)
