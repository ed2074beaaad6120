-- Delivery bookkeeping for the outbox: a message that keeps failing is
-- abandoned after a number of attempts, and stays for an administrator to see.

-- +goose Up
ALTER TABLE meta.outbox ADD COLUMN abandoned_at timestamptz;
DROP INDEX meta.outbox_pending_idx;
CREATE INDEX outbox_pending_idx ON meta.outbox (available_at) WHERE delivered_at IS NULL AND abandoned_at IS NULL;

-- +goose Down
DROP INDEX meta.outbox_pending_idx;
CREATE INDEX outbox_pending_idx ON meta.outbox (available_at) WHERE delivered_at IS NULL;
ALTER TABLE meta.outbox DROP COLUMN abandoned_at;
