-- +goose Up
CREATE INDEX IF NOT EXISTS audit_events_type_created_idx ON audit_events (event_type, created_at DESC);
CREATE INDEX IF NOT EXISTS audit_events_correlation_idx ON audit_events (correlation_id);

-- +goose Down
DROP INDEX IF EXISTS audit_events_correlation_idx;
DROP INDEX IF EXISTS audit_events_type_created_idx;
