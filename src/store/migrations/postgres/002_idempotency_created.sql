-- The retention sweep forgets idempotency outcomes by age (store.h PurgeIdempotency).
CREATE INDEX idempotency_created ON idempotency (created);
