package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"kdoctor.dev/demo/internal/logger"
)

func configFile(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigErrors(t *testing.T) {
	if _, err := LoadConfig("/etc/gateway/missing.json"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := LoadConfig(configFile(t, `{"datastorage":`)); err == nil || !strings.Contains(err.Error(), "invalid configuration") {
		t.Fatalf("bad JSON: %v", err)
	}
	if _, err := LoadConfig(configFile(t, `{"datastorage":{"url":"http://ds:8080"}}`)); err == nil || !strings.Contains(err.Error(), "datastorage.healthUrl") {
		t.Fatalf("missing healthUrl: %v", err)
	}
	if _, err := Namespace(func(string) string { return "" }); err == nil || err.Error() != "KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required" {
		t.Fatalf("namespace: %v", err)
	}
}

// The readiness gate is closed while DataStorage fails, opens when it answers, and signals land as audit events.
func TestReadinessGateAndForwarding(t *testing.T) {
	var dsReady atomic.Bool
	var stored []map[string]any
	ds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			if !dsReady.Load() {
				w.WriteHeader(503)
				return
			}
		case "/api/v1/audit":
			var ev map[string]any
			_ = json.NewDecoder(r.Body).Decode(&ev)
			stored = append(stored, ev)
			w.WriteHeader(201)
			_, _ = io.WriteString(w, `{"id":7}`)
		}
	}))
	defer ds.Close()
	cfg, err := LoadConfig(configFile(t, `{"datastorage":{"url":"`+ds.URL+`","healthUrl":"`+ds.URL+`/readyz","timeout":"2s"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(logger.New("gateway", io.Discard), cfg, "kdoctor-demo")
	get := func(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec
	}
	if c := get(s.Health(), "GET", "/readyz", "").Code; c != 503 {
		t.Fatalf("gate open while DataStorage is down: %d", c)
	}
	if c := get(s.Health(), "GET", "/healthz", "").Code; c != 200 {
		t.Fatalf("healthz %d", c)
	}
	dsReady.Store(true)
	if c := get(s.Health(), "GET", "/readyz", "").Code; c != 200 {
		t.Fatalf("gate closed while DataStorage is up: %d", c)
	}
	rec := get(s.API(), "POST", "/api/v1/signals/prometheus", `{"alerts":[{"status":"firing","labels":{"alertname":"PodCrashLooping","namespace":"prod"}}]}`)
	if rec.Code != 201 || len(stored) != 1 || stored[0]["eventType"] != "gateway.signal.received" || stored[0]["namespace"] != "prod" {
		t.Fatalf("forwarding: %d %s %v", rec.Code, rec.Body, stored)
	}
	if c := get(s.API(), "POST", "/api/v1/signals/prometheus", `{}`).Code; c != 400 {
		t.Fatalf("empty body accepted: %d", c)
	}
}

func TestTransportNeedsAReadableCA(t *testing.T) {
	if tr, err := Transport(func(string) string { return "" }); tr != nil || err != nil {
		t.Fatalf("no TLS_CA_FILE: default transport, got %v %v", tr, err)
	}
	_, err := Transport(func(string) string { return "/nonexistent/ca.crt" })
	if err == nil || !strings.Contains(err.Error(), "failed to create TLS-aware base transport for Data Storage client: failed to read CA certificate") {
		t.Fatalf("unreadable CA: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "ca.crt")
	_ = os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if _, err := Transport(func(string) string { return bad }); err == nil || !strings.Contains(err.Error(), "no valid PEM certificates") {
		t.Fatalf("not PEM: %v", err)
	}
}
