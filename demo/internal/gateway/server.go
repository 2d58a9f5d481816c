package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"kdoctor.dev/demo/internal/logger"
	"kdoctor.dev/demo/internal/metrics"
)

// Server holds the Gateway's handlers.
type Server struct {
	Log       *logger.Logger
	Cfg       *Config
	Namespace string
	Metrics   *metrics.Registry
	Client    *http.Client
	gate      atomic.Int32 // 0 unknown, 1 open, 2 closed: gate changes are logged once, not per probe
}

// NewServer wires the handlers.
func NewServer(log *logger.Logger, cfg *Config, ns string) *Server {
	m := metrics.New()
	m.Counter("gateway_signals_received_total", "Alerts received, by source.")
	m.Counter("gateway_audit_events_forwarded_total", "Audit events DataStorage accepted.")
	m.Counter("gateway_audit_forward_failures_total", "Audit events DataStorage did not accept.")
	m.Counter("gateway_http_requests_total", "HTTP requests served by the API, by path and status code.")
	m.Gauge("gateway_datastorage_ready", "1 while DataStorage's health URL answers 200.")
	return &Server{Log: log, Cfg: cfg, Namespace: ns, Metrics: m, Client: &http.Client{Timeout: cfg.Timeout()}}
}

// API serves POST /api/v1/signals/prometheus.
func (s *Server) API() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/signals/prometheus", s.prometheus)
	return mux
}

// Health serves /healthz (always 200 once started) and /readyz (the DataStorage gate).
func (s *Server) Health() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.HandleFunc("/readyz", s.readyz)
	return mux
}

// readyz is 200 only while DataStorage's healthUrl answers 200: it fails closed, so an unreachable
// DataStorage shows up as "Gateway not ready" (as in Kubernaut, where that is the usual cause).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	err := s.probe(ctx)
	if err != nil {
		s.Metrics.Set("gateway_datastorage_ready", 0)
		if s.gate.Swap(2) != 2 {
			s.Log.Warn("DataStorage readiness gate closed: DataStorage unreachable", logger.String("health_url", s.Cfg.DataStorage.HealthURL), logger.Err(err))
		}
		writeJSON(w, 503, map[string]string{"status": "not ready", "reason": "datastorage unreachable: " + err.Error()})
		return
	}
	s.Metrics.Set("gateway_datastorage_ready", 1)
	if s.gate.Swap(1) != 1 {
		s.Log.Info("DataStorage readiness gate open", logger.String("health_url", s.Cfg.DataStorage.HealthURL))
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

func (s *Server) probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Cfg.DataStorage.HealthURL, nil)
	if err != nil {
		return err
	}
	res, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", s.Cfg.DataStorage.HealthURL, res.Status)
	}
	return nil
}

// Alert is one Prometheus alert, as Alertmanager's webhook sends it.
type Alert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    string            `json:"startsAt"`
	Fingerprint string            `json:"fingerprint"`
}

// prometheus accepts an Alertmanager webhook body ({"alerts": [...]}) or one alert, and records each alert in DataStorage.
func (s *Server) prometheus(w http.ResponseWriter, r *http.Request) {
	code := 0
	defer func() {
		s.Metrics.Add("gateway_http_requests_total", 1, "path", r.URL.Path, "code", strconv.Itoa(code))
	}()
	reply := func(c int, v any) { code = c; writeJSON(w, c, v) }
	if r.Method != http.MethodPost {
		reply(405, map[string]string{"error": "use POST"})
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		reply(400, map[string]string{"error": err.Error()})
		return
	}
	var body struct {
		Alerts []Alert `json:"alerts"`
	}
	var one Alert
	if err := json.Unmarshal(raw, &body); err != nil {
		reply(400, map[string]string{"error": "invalid JSON: " + err.Error()})
		return
	}
	if len(body.Alerts) == 0 && json.Unmarshal(raw, &one) == nil && one.Labels["alertname"] != "" {
		body.Alerts = []Alert{one}
	}
	if len(body.Alerts) == 0 {
		reply(400, map[string]string{"error": "no alerts (expected {\"alerts\": [...]} or an alert with labels.alertname)"})
		return
	}
	ids := []int64{}
	for _, a := range body.Alerts {
		s.Metrics.Add("gateway_signals_received_total", 1, "source", "prometheus")
		id, err := s.forward(r.Context(), a)
		if err != nil {
			s.Metrics.Add("gateway_audit_forward_failures_total", 1)
			s.Log.Error("Failed to write audit event to DataStorage", logger.String("alertname", a.Labels["alertname"]), logger.String("url", s.Cfg.DataStorage.URL), logger.Err(err))
			reply(502, map[string]string{"error": "datastorage: " + err.Error()})
			return
		}
		s.Metrics.Add("gateway_audit_events_forwarded_total", 1)
		s.Log.Info("Signal accepted", logger.String("alertname", a.Labels["alertname"]), logger.String("namespace", a.Labels["namespace"]), logger.Int64("audit_id", id))
		ids = append(ids, id)
	}
	reply(201, map[string]any{"status": "accepted", "signals": len(ids), "auditIds": ids})
}

func (s *Server) forward(ctx context.Context, a Alert) (int64, error) {
	payload, _ := json.Marshal(a)
	corr := a.Fingerprint
	if corr == "" {
		corr = a.Labels["alertname"] + "/" + a.Labels["namespace"]
	}
	ev, _ := json.Marshal(map[string]any{"eventType": "gateway.signal.received", "source": "prometheus", "namespace": a.Labels["namespace"], "correlationId": corr, "payload": json.RawMessage(payload)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.Cfg.DataStorage.URL, "/")+"/api/v1/audit", bytes.NewReader(ev))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var out struct {
		ID    int64  `json:"id"`
		Error string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&out)
	if res.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("POST /api/v1/audit: %s %s", res.Status, out.Error)
	}
	return out.ID, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
