package datastorage

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"kdoctor.dev/demo/internal/logger"
	"kdoctor.dev/demo/internal/pgwire"
)

// Store is one PostgreSQL connection shared by the handlers, reopened after a network error.
type Store struct {
	cfg  pgwire.Config
	mu   sync.Mutex
	conn *pgwire.Conn
}

// PGConfig turns the service config into the client's.
func PGConfig(c *Config, app string) pgwire.Config {
	return pgwire.Config{Host: c.Database.Host, Port: c.Database.Port, User: c.Database.User, Password: c.Database.Password, Database: c.Database.Name, ApplicationName: app}
}

// Open connects, waiting up to wait while PostgreSQL is unreachable (a pod that starts first); a server error
// such as a wrong password (SQLSTATE 28P01) fails at once, because waiting cannot fix it.
func Open(ctx context.Context, log *logger.Logger, cfg pgwire.Config, wait time.Duration) (*Store, error) {
	deadline := time.Now().Add(wait)
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := pgwire.Connect(cctx, cfg)
		cancel()
		if err == nil {
			log.Info("Connected to PostgreSQL", logger.String("host", cfg.Host), logger.String("database", cfg.Database), logger.String("server_version", conn.Params["server_version"]))
			return &Store{cfg: cfg, conn: conn}, nil
		}
		var pe *pgwire.PgError
		var ne net.Error
		retryable := !errors.As(err, &pe) && (errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused"))
		if !retryable || time.Now().After(deadline) || ctx.Err() != nil {
			return nil, err
		}
		log.Warn("PostgreSQL not reachable yet, retrying", logger.Int("attempt", attempt), logger.Err(err))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// Query runs sql, reconnecting once first if the previous connection broke.
func (s *Store) Query(ctx context.Context, sql string) (*pgwire.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		c, err := pgwire.Connect(ctx, s.cfg)
		if err != nil {
			return nil, err
		}
		s.conn = c
	}
	res, err := s.conn.Query(ctx, sql)
	var pe *pgwire.PgError
	if err != nil && !errors.As(err, &pe) {
		_ = s.conn.Close()
		s.conn = nil
	}
	return res, err
}

// Close ends the session.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// GooseUp returns the `-- +goose Up` section of a goose migration (the whole text when it has no markers).
func GooseUp(sql string) string {
	up := strings.Index(sql, "-- +goose Up")
	if up < 0 {
		return sql
	}
	body := sql[up+len("-- +goose Up"):]
	if down := strings.Index(body, "-- +goose Down"); down >= 0 {
		body = body[:down]
	}
	return strings.NewReplacer("-- +goose StatementBegin", "", "-- +goose StatementEnd", "").Replace(body)
}

// Migrate applies the pending *.sql files of fsys in name order, each with its schema_migrations row in one
// transaction, under an advisory lock so two migration Jobs cannot interleave. It returns the files applied.
func Migrate(ctx context.Context, log *logger.Logger, s *Store, fsys fs.FS) ([]string, error) {
	if _, err := s.Query(ctx, "SELECT pg_advisory_lock(7305)"); err != nil {
		return nil, err
	}
	defer s.Query(context.Background(), "SELECT pg_advisory_unlock(7305)") //nolint:errcheck
	if _, err := s.Query(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"); err != nil {
		return nil, err
	}
	res, err := s.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, r := range res.Rows {
		done[*r[0]] = true
	}
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var applied []string
	for _, f := range files {
		if done[f] {
			continue
		}
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return applied, err
		}
		start := time.Now()
		// One simple-query message is one implicit transaction: the schema change and its bookkeeping row land together.
		sql := GooseUp(string(raw)) + ";\nINSERT INTO schema_migrations (version) VALUES (" + pgwire.Literal(f) + ")"
		if _, err := s.Query(ctx, sql); err != nil {
			return applied, errors.New("migration " + f + " failed: " + err.Error())
		}
		log.Info("Applied "+f, logger.Duration("duration", time.Since(start)))
		applied = append(applied, f)
	}
	if len(applied) == 0 {
		log.Info("All migrations already applied (no pending)", logger.Int("total", len(files)))
	}
	return applied, nil
}

// RequiredTables are the tables serve refuses to start without (DataStorage does not migrate by itself).
var RequiredTables = []string{"audit_events"}

// CheckSchema fails when a required table is missing, naming it and the fix.
func CheckSchema(ctx context.Context, s *Store) error {
	for _, t := range RequiredTables {
		res, err := s.Query(ctx, "SELECT to_regclass("+pgwire.Literal("public."+t)+") IS NOT NULL")
		if err != nil {
			return err
		}
		if len(res.Rows) != 1 || res.Rows[0][0] == nil || *res.Rows[0][0] != "t" {
			return errors.New(`relation "` + t + `" does not exist: the database is not migrated (run "datastorage migrate", the migrations Job, first)`)
		}
	}
	return nil
}
