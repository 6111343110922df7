# frozen_string_literal: true

# What the store and the hooks share: a pooled connection for the time of one call (each is
# called from a request's thread, a job's or ruby-ffi's callback thread), and SQL with its
# values quoted in.
module PooledSql
  private

  def db(&block)
    ActiveRecord::Base.connection_pool.with_connection(&block)
  end

  def sql(statement, *values)
    ActiveRecord::Base.sanitize_sql_array([statement, *values])
  end
end
