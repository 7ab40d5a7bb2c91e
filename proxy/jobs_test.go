package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"mavtop/client/sandbox"
	"mavtop/model"
	"mavtop/proxy"
)

// getJob polls a job at base (the proxy's or the sandbox's own) as ws.
func getJob(t *testing.T, base, path, ws string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set(proxy.WorkspaceHeader, ws)
	req.Header.Set(sandbox.WorkspaceHeader, ws)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var job struct{ Status string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &job) != nil {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
	}
	return job.Status
}

// createJob creates a focus group through the proxy and returns its path.
func createJob(t *testing.T, r *rig, ws string) string {
	t.Helper()
	status, body := post(t, r.Base+"/focus-groups", testKey, focusGroup(ws, 10, 2), nil)
	id, _ := body["id"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("focus group for %s: %d %v", ws, status, body)
	}
	return "/focus-groups/" + id
}

// eventsOf counts the usage events recorded for a workspace.
func eventsOf(evs []model.Event, ws string) (n int, last model.Event) {
	for _, e := range evs {
		if e.Workspace == ws {
			n, last = n+1, e
		}
	}
	return n, last
}

// A job created through the proxy is recorded once, with what the sandbox
// charged, whoever polls it: the application through the proxy, the application
// directly at the API, or nobody (the proxy polls it itself). Polling all of them
// through the proxy afterwards records nothing more.
func TestJobsTrackedHoweverPolled(t *testing.T) {
	r := newRig(t, rigOptions{jobPoll: 20 * time.Millisecond})
	jobs := map[string]string{}
	for _, ws := range []string{"through", "direct", "never"} {
		jobs[ws] = createJob(t, r, ws)
	}
	r.clock.Advance(2 * time.Second) // 60–90 s of work at JobSpeed 100
	if st := getJob(t, r.up.URL+sandbox.BasePath, jobs["direct"], "direct"); st != "completed" {
		t.Fatalf("direct poll: %s", st)
	}
	if st := getJob(t, r.Base, jobs["through"], "through"); st != "completed" {
		t.Fatalf("poll through the proxy: %s", st)
	}
	waitFor(t, "every job recorded", func() bool { return r.px.PendingJobs() == 0 && r.q.Stats().Published == 3 })
	check := func(when string) {
		t.Helper()
		r.settle()
		snap, l, evs := r.snapshot(), r.ledger(), r.events()
		for ws, path := range jobs {
			charged := l.Workspaces[ws].Used
			if got := snap.Used[ws]; got != charged || charged == 0 {
				t.Errorf("%s, %s: Redis %d, sandbox %d", when, ws, got, charged)
			}
			if n, e := eventsOf(evs, ws); n != 1 || e.Credits != charged || e.Status != http.StatusCreated || e.Req != path[strings.LastIndexByte(path, '/')+1:] {
				t.Errorf("%s, %s: %d events, last %+v; want one of %d credits, status 201", when, ws, n, e, charged)
			}
		}
	}
	check("once finished")
	if polls := metric(t, r, "mavtop_proxy_job_polls_total"); polls < 2 {
		t.Errorf("the proxy polled %v times, want at least the 2 jobs nobody polled through it", polls)
	}
	for ws, path := range jobs {
		getJob(t, r.Base, path, ws)
	}
	// A chat after the polls: once its event is written, theirs would be too.
	if status, _ := post(t, r.Base+"/responses", testKey, map[string]any{"model": "mavera-1", "input": "hi"}, nil); status != http.StatusOK {
		t.Fatalf("marker chat: %d", status)
	}
	waitFor(t, "the marker's event", func() bool { return r.q.Stats().Published >= 4 })
	check("polled again through the proxy")
}

// When the API says the charge in the creation answer, the job is recorded at
// creation and not followed: polls through the proxy to its end add nothing.
func TestJobChargedAtCreation(t *testing.T) {
	r := newRig(t, rigOptions{sandbox: sandbox.Config{UsageAtCreation: true}, jobPoll: 20 * time.Millisecond})
	path := createJob(t, r, "upfront")
	charged := r.ledger().Workspaces["upfront"].Used
	waitFor(t, "the creation's event", func() bool { return r.q.Stats().Published == 1 })
	if got := r.snapshot().Used["upfront"]; got != charged || charged == 0 || r.px.PendingJobs() != 0 {
		t.Fatalf("at creation: Redis %d, sandbox %d, %d jobs followed (want none)", got, charged, r.px.PendingJobs())
	}
	r.clock.Advance(2 * time.Second)
	for range 3 {
		if st := getJob(t, r.Base, path, "upfront"); st != "completed" {
			t.Fatalf("poll: %s", st)
		}
	}
	r.settle()
	if n, e := eventsOf(r.events(), "upfront"); n != 1 || e.Credits != charged {
		t.Fatalf("%d events, last %+v; want one of %d credits", n, e, charged)
	}
	if got := r.snapshot().Used["upfront"]; got != charged {
		t.Fatalf("after polls: Redis %d, sandbox %d", got, charged)
	}
}

// A job the proxy cannot follow to its end is not lost silently: with the
// proxy's own polls off and no poll through it, stopping the proxy records it
// with its creation status, 0 credits, the code job_untracked and a message
// saying the charge is unknown.
func TestJobUntrackedIsRecorded(t *testing.T) {
	r := newRig(t, rigOptions{jobPoll: -1})
	path := createJob(t, r, "lost")
	waitFor(t, "the job followed", func() bool { return r.px.PendingJobs() == 1 })
	r.stopRun()
	r.settle()
	n, e := eventsOf(r.events(), "lost")
	if n != 1 || e.Req != path[strings.LastIndexByte(path, '/')+1:] || e.Code != proxy.CodeJobUntracked || e.Credits != 0 || e.Status != http.StatusCreated || !strings.Contains(e.Msg, "reconcile") {
		t.Fatalf("%d events, last %+v; want one job_untracked, 0 credits, status 201", n, e)
	}
	if polls := metric(t, r, "mavtop_proxy_job_polls_total"); polls != 0 {
		t.Fatalf("the proxy polled %v times with its polls off", polls)
	}
}
