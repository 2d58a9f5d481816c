// Package metrics keeps a few labelled counters and gauges and prints them in Prometheus' text format.
package metrics

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Registry holds metric families by name.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
}

type family struct {
	help, kind string
	values     map[string]float64 // key: rendered label set, "" for none
}

// New returns an empty registry.
func New() *Registry { return &Registry{families: map[string]*family{}} }

// Counter declares a counter (idempotent).
func (r *Registry) Counter(name, help string) { r.declare(name, help, "counter") }

// Gauge declares a gauge (idempotent).
func (r *Registry) Gauge(name, help string) { r.declare(name, help, "gauge") }

func (r *Registry) declare(name, help, kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.families[name]; !ok {
		r.families[name] = &family{help: help, kind: kind, values: map[string]float64{}}
	}
}

// Add adds v to the series name{labels...}; labels are key, value pairs.
func (r *Registry) Add(name string, v float64, labels ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.families[name]; ok {
		f.values[render(labels)] += v
	}
}

// Set sets the gauge series name{labels...} to v.
func (r *Registry) Set(name string, v float64, labels ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.families[name]; ok {
		f.values[render(labels)] = v
	}
}

func render(labels []string) string {
	if len(labels) == 0 {
		return ""
	}
	parts := make([]string, 0, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(labels[i+1])
		parts = append(parts, labels[i]+`="`+v+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// ServeHTTP writes every family in the text exposition format 0.0.4.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := r.families[n]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", n, f.help, n, f.kind)
		keys := make([]string, 0, len(f.values))
		for k := range f.values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 && f.kind == "counter" {
			fmt.Fprintf(w, "%s 0\n", n)
		}
		for _, k := range keys {
			fmt.Fprintf(w, "%s%s %g\n", n, k, f.values[k])
		}
	}
}
