package datastorage

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"kdoctor.dev/demo/internal/logger"
	"kdoctor.dev/demo/internal/metrics"
	"kdoctor.dev/demo/internal/pgwire"
	"kdoctor.dev/demo/internal/resp"
)

// Server holds the handlers of the API (:8080), health (:8081) and metrics (:9090) listeners.
type Server struct {
	Log     *logger.Logger
	Store   *Store
	Redis   func(ctx context.Context) error
	Metrics *metrics.Registry
	ready   atomic.Int32 // 0 unknown, 1 ready, 2 not ready: readiness changes are logged once, not per probe
}

// NewServer wires the handlers.
func NewServer(log *logger.Logger, store *Store, cfg *Config) *Server {
	m := metrics.New()
	m.Counter("datastorage_http_requests_total", "HTTP requests served by the API, by path and status code.")
	m.Counter("datastorage_audit_events_written_total", "Audit events stored in PostgreSQL.")
	m.Counter("datastorage_db_errors_total", "Failed PostgreSQL queries.")
	m.Gauge("datastorage_ready", "1 when PostgreSQL and Redis both answer.")
	addr, pw := cfg.Redis.Addr, cfg.Redis.Password
	return &Server{Log: log, Store: store, Metrics: m, Redis: func(ctx context.Context) error { return resp.Ping(ctx, addr, pw) }}
}

// API serves POST /api/v1/audit and GET /api/v1/audit/count.
func (s *Server) API() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/audit", s.count(s.postAudit))
	mux.HandleFunc("/api/v1/audit/count", s.count(s.auditCount))
	// Readiness on the API port too, as Kubernaut's: a client's health URL then proves the API's TLS as well.
	mux.HandleFunc("/readyz", s.readyz)
	return mux
}

// Health serves /healthz (the process is up) and /readyz (PostgreSQL and Redis answer).
func (s *Server) Health() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.HandleFunc("/readyz", s.readyz)
	return mux
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) { w.code = c; w.ResponseWriter.WriteHeader(c) }

func (s *Server) count(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: 200}
		h(sw, r)
		s.Metrics.Add("datastorage_http_requests_total", 1, "path", r.URL.Path, "code", strconv.Itoa(sw.code))
	}
}

// AuditEvent is the body of POST /api/v1/audit.
type AuditEvent struct {
	EventType     string          `json:"eventType"`
	Source        string          `json:"source"`
	Namespace     string          `json:"namespace"`
	CorrelationID string          `json:"correlationId"`
	Payload       json.RawMessage `json:"payload"`
}

func (s *Server) postAudit(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, 405, map[string]string{"error": "use POST"})
		return
	}
	var ev AuditEvent
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&ev); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid JSON: " + err.Error()})
		return
	}
	if ev.EventType == "" {
		writeJSON(w, 400, map[string]string{"error": "eventType is required"})
		return
	}
	payload := "{}"
	if len(ev.Payload) > 0 {
		payload = string(ev.Payload)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	res, err := s.Store.Query(ctx, "INSERT INTO audit_events (event_type, source, namespace, correlation_id, payload) VALUES ("+
		pgwire.Literal(ev.EventType)+", "+pgwire.Literal(ev.Source)+", "+pgwire.Literal(ev.Namespace)+", "+
		pgwire.Literal(ev.CorrelationID)+", "+pgwire.Literal(payload)+"::jsonb) RETURNING id")
	if err != nil {
		s.Metrics.Add("datastorage_db_errors_total", 1)
		s.Log.Error("Failed to store audit event", logger.String("event_type", ev.EventType), logger.Err(err))
		writeJSON(w, 500, map[string]string{"error": err.Error()})
		return
	}
	s.Metrics.Add("datastorage_audit_events_written_total", 1)
	id, _ := strconv.ParseInt(*res.Rows[0][0], 10, 64)
	s.Log.Info("Audit event stored", logger.Int64("id", id), logger.String("event_type", ev.EventType), logger.String("correlation_id", ev.CorrelationID))
	writeJSON(w, 201, map[string]int64{"id": id})
}

func (s *Server) auditCount(w http.ResponseWriter, r *http.Request) {
	where := ""
	if t := r.URL.Query().Get("eventType"); t != "" {
		where = " WHERE event_type = " + pgwire.Literal(t)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	res, err := s.Store.Query(ctx, "SELECT count(*) FROM audit_events"+where)
	if err != nil {
		s.Metrics.Add("datastorage_db_errors_total", 1)
		writeJSON(w, 500, map[string]string{"error": err.Error()})
		return
	}
	n, _ := strconv.ParseInt(*res.Rows[0][0], 10, 64)
	writeJSON(w, 200, map[string]int64{"count": n})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"postgresql": "ok", "redis": "ok"}
	var failed error
	if _, err := s.Store.Query(ctx, "SELECT 1"); err != nil {
		checks["postgresql"], failed = err.Error(), err
	}
	if err := s.Redis(ctx); err != nil {
		checks["redis"], failed = err.Error(), err
	}
	if failed != nil {
		s.Metrics.Set("datastorage_ready", 0)
		if s.ready.Swap(2) != 2 {
			s.Log.Warn("Not ready: a dependency does not answer", logger.Any("checks", checks), logger.Err(failed))
		}
		writeJSON(w, 503, map[string]any{"status": "not ready", "checks": checks})
		return
	}
	s.Metrics.Set("datastorage_ready", 1)
	if s.ready.Swap(1) != 1 {
		s.Log.Info("Ready: PostgreSQL and Redis answer")
	}
	writeJSON(w, 200, map[string]any{"status": "ready", "checks": checks})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
