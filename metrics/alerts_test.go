package metrics

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"mavtop/model"
)

type fakeAlerts struct{}

func (fakeAlerts) Firing() int { return 3 }
func (fakeAlerts) Notifications() map[[2]string]int64 {
	return map[[2]string]int64{{"webhook:127.0.0.1:9000", "sent"}: 5, {"webhook:127.0.0.1:9000", "retrying"}: 2, {"slack", "sent"}: 5}
}
func (fakeAlerts) Scores() []model.ForecastScore {
	p := time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC)
	return []model.ForecastScore{
		{Workspace: "acme", Projected: p, Refused: p.Add(-13 * time.Minute)}, // newest
		{Workspace: "acme", Projected: p, Refused: p.Add(time.Hour)},
		{Workspace: "globex", Projected: p, Refused: p.Add(90 * time.Second)},
	}
}

func TestAlertMetrics(t *testing.T) {
	r := startRig(t, Options{Alerts: fakeAlerts{}})
	fams := scrape(t, r.url)
	sameSeries(t, "mavtop_alerts_firing", series(t, fams, "mavtop_alerts_firing", dto.MetricType_GAUGE), map[string]float64{"": 3})
	sameSeries(t, "mavtop_notifications_total", series(t, fams, "mavtop_notifications_total", dto.MetricType_COUNTER), map[string]float64{
		"result=retrying,sink=webhook:127.0.0.1:9000": 2, "result=sent,sink=slack": 5, "result=sent,sink=webhook:127.0.0.1:9000": 5})
	sameSeries(t, "mavtop_forecast_error_seconds", series(t, fams, "mavtop_forecast_error_seconds", dto.MetricType_GAUGE), map[string]float64{
		"workspace=acme": -780, "workspace=globex": 90})
}
