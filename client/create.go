package client

import (
	"context"
	"net/http"
)

// charged is a result that knows the credits it used.
type charged interface {
	Credits() int64
}

// track says how a call is recorded: its operation class and pre-flight estimate.
type track struct {
	op  string
	est int64
}

// createSync performs a synchronous creation (the charge is known from the answer)
// and publishes its outcome once.
func (c *Client) createSync(ctx context.Context, path string, t track, body any, out charged, id func() string) error {
	c.sh.quiet.RLock()
	defer c.sh.quiet.RUnlock()
	rep, err := c.send(ctx, request{method: http.MethodPost, path: path, body: body, create: true}, out)
	o := outcome{endpoint: path, op: t.op, est: t.est, status: rep.status, req: rep.requestID}
	if err == nil {
		o.credits = out.Credits()
		if jid := id(); jid != "" {
			o.req = jid
		}
	}
	c.trackResult(ctx, o, err)
	return err
}

// createAsync starts an asynchronous job. A refusal is published at once; an
// accepted job is published when it is seen finished (settle).
func (c *Client) createAsync(ctx context.Context, path string, t track, body any, out any, id func() string) error {
	c.sh.quiet.RLock()
	defer c.sh.quiet.RUnlock()
	rep, err := c.send(ctx, request{method: http.MethodPost, path: path, body: body, create: true}, out)
	if err != nil {
		c.trackResult(ctx, outcome{endpoint: path, op: t.op, est: t.est, status: rep.status, req: rep.requestID}, err)
		return err
	}
	c.expect(id(), pendingJob{endpoint: path, op: t.op, est: t.est, status: rep.status})
	return nil
}
