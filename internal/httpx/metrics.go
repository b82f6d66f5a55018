package httpx

import (
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics counts requests for GET /metrics in the Prometheus text format. The format is a few
// lines of text; a client library would bring more than it gives here.
type Metrics struct {
	mu       sync.Mutex
	requests map[string]*atomic.Int64 // by "method code"
	seconds  atomic.Int64             // total request time in microseconds
	count    atomic.Int64
	gauges   map[string]func() float64
}

// NewMetrics returns empty counters.
func NewMetrics() *Metrics {
	return &Metrics{requests: map[string]*atomic.Int64{}, gauges: map[string]func() float64{}}
}

// Gauge registers a value read at each scrape (for instance the number of queued emails).
func (m *Metrics) Gauge(name string, read func() float64) {
	m.mu.Lock()
	m.gauges[name] = read
	m.mu.Unlock()
}

func (m *Metrics) observe(method string, code int, d time.Duration) {
	key := fmt.Sprintf("%s %d", method, code)
	m.mu.Lock()
	c, ok := m.requests[key]
	if !ok {
		c = &atomic.Int64{}
		m.requests[key] = c
	}
	m.mu.Unlock()
	c.Add(1)
	m.seconds.Add(d.Microseconds())
	m.count.Add(1)
}

// ServeHTTP writes the metrics.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.mu.Lock()
	keys := make([]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "# HELP roster_http_requests_total HTTP requests by method and status code.")
	fmt.Fprintln(w, "# TYPE roster_http_requests_total counter")
	for _, k := range keys {
		var method string
		var code int
		fmt.Sscanf(k, "%s %d", &method, &code)
		fmt.Fprintf(w, "roster_http_requests_total{method=%q,code=\"%d\"} %d\n", method, code, m.requests[k].Load())
	}
	gauges := make([]string, 0, len(m.gauges))
	for k := range m.gauges {
		gauges = append(gauges, k)
	}
	sort.Strings(gauges)
	reads := m.gauges
	m.mu.Unlock()
	fmt.Fprintln(w, "# HELP roster_http_request_duration_seconds Time spent serving HTTP requests.")
	fmt.Fprintln(w, "# TYPE roster_http_request_duration_seconds summary")
	fmt.Fprintf(w, "roster_http_request_duration_seconds_sum %g\n", float64(m.seconds.Load())/1e6)
	fmt.Fprintf(w, "roster_http_request_duration_seconds_count %d\n", m.count.Load())
	fmt.Fprintln(w, "# TYPE roster_goroutines gauge")
	fmt.Fprintf(w, "roster_goroutines %d\n", runtime.NumGoroutine())
	for _, name := range gauges {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %g\n", name, name, reads[name]())
	}
}
