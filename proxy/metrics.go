package proxy

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the proxy's own series, served at /metrics on its listener. Labels
// take values from fixed sets only (endpoint templates, status codes, refusal
// codes), never from a path or a body.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	refusals  *prometheus.CounterVec
	unchecked prometheus.Counter
	// cachedAdmits counts priced calls admitted from the budget cache.
	cachedAdmits prometheus.Counter
	upstream     prometheus.Counter
	unauth       prometheus.Counter
	cut          *prometheus.CounterVec
	jobPolls     prometheus.Counter
}

func newMetrics(q *Queue, pending func() int, periodUnreadable func() string) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mavtop_proxy_requests_total",
			Help: "Requests answered by the proxy, by endpoint template and HTTP status (its own answers included).",
		}, []string{"endpoint", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mavtop_proxy_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer (streams included), by endpoint template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"endpoint"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mavtop_proxy_preflight_refusals_total",
			Help: "Requests the proxy answered with 402 itself, by code (preflight_refused, budget_exceeded).",
		}, []string{"code"}),
		unchecked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mavtop_proxy_preflight_unchecked_total",
			Help: "Priced requests forwarded without a pre-flight check because the budgets could not be read.",
		}),
		cachedAdmits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mavtop_proxy_preflight_cached_total",
			Help: "Priced calls (chats, Mave) admitted against a budget read less than --budget-cache ago, minus what was admitted since; the others read Redis.",
		}),
		upstream: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mavtop_proxy_upstream_errors_total",
			Help: "Requests that got no answer from upstream (answered 502 or 504 by the proxy).",
		}),
		cut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mavtop_proxy_cut_answers_total",
			Help: "Answers that did not reach their end before their usage was read, by code (upstream_reset, client_disconnected): recorded with credits unknown.",
		}, []string{"code"}),
		jobPolls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mavtop_proxy_job_polls_total",
			Help: "Polls the proxy made itself of jobs created through it that no one polled through it.",
		}),
		unauth: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mavtop_proxy_unauthorized_total",
			Help: "Requests refused with 401 for an unknown proxy token.",
		}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(m.requests, m.latency, m.refusals, m.unchecked, m.cachedAdmits, m.upstream, m.unauth, m.cut, m.jobPolls,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		gauge("mavtop_proxy_pending_jobs", "Jobs created through the proxy whose charge is not recorded yet.",
			func() float64 { return float64(pending()) }),
		gauge("mavtop_proxy_tracking_backlog", "Usage events waiting to be written to Redis.",
			func() float64 { return float64(q.Backlog()) }),
		gauge("mavtop_proxy_tracking_redis_down", "1 while writes of usage events to Redis fail (events wait in memory).",
			func() float64 {
				if q.down.Load() {
					return 1
				}
				return 0
			}),
		counter("mavtop_proxy_tracking_published_total", "Usage events written to Redis.",
			func() float64 { return float64(q.published.Load()) }),
		counter("mavtop_proxy_tracking_dropped_total", "Usage events dropped because the queue was full.",
			func() float64 { return float64(q.dropped.Load()) }),
		counter("mavtop_proxy_tracking_unknown_total", "Usage events whose write Redis could neither confirm nor deny.",
			func() float64 { return float64(q.unknown.Load()) }),
	)
	if periodUnreadable != nil {
		m.reg.MustRegister(gauge("mavtop_proxy_period_config_unreadable",
			"1 while the stored billing-period config (the settings hash's #period field) the proxy read last cannot be read: its usage events are recorded, and its budgets read, in calendar months in UTC meanwhile (the fallback every mavtop judges by); said once in the log. 0 when it can be read or is absent.",
			func() float64 {
				if periodUnreadable() != "" {
					return 1
				}
				return 0
			}))
	}
	return m
}

// observe records one answered request.
func (m *metrics) observe(endpoint string, status int, seconds float64) {
	label := endpoint
	if !knownEndpoints[label] {
		label = "other"
	}
	m.requests.WithLabelValues(label, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(label).Observe(seconds)
}

// knownEndpoints are the endpoint templates that get series of their own.
var knownEndpoints = map[string]bool{
	"/responses": true, "/chat/completions": true, "/mave/chat": true, "/mave/threads": true, "/mave/threads/{id}": true,
	"/focus-groups": true, "/focus-groups/{id}": true,
	"/video-analyses": true, "/video-analyses/{id}": true, "/video-analyses/{id}/chat": true,
	"/brand-voices": true, "/brand-voices/{id}": true, "/personas": true, "/personas/{id}": true,
	"/usage": true, "/workspaces": true, "/workspaces/{id}": true, "/generations": true,
	"/files": true, "/files/upload-url": true,
}
